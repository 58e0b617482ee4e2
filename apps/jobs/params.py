"""Parameters of the jobs app's own kinds (``worker_check``, ``load_demo``)."""

from __future__ import annotations

from pydantic import Field

from apps.core.bounds import FiniteFloat, JobParams, Text


class WorkerCheckParams(JobParams):
    steps: int = Field(10, ge=1, le=1000, description="steps to count")
    pause_s: FiniteFloat = Field(0.5, ge=0, le=10, description="pause between steps, s")


class LoadDemoParams(JobParams):
    """The demo folder is GAIA_DEMO_DATA, never a parameter."""

    skip: list[Text] = Field(default_factory=list, max_length=20, description="demo steps to skip")
