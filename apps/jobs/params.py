"""Parameters of the jobs app's own kind (``worker_check``)."""

from __future__ import annotations

from pydantic import Field

from apps.core.bounds import FiniteFloat, JobParams


class WorkerCheckParams(JobParams):
    steps: int = Field(10, ge=1, le=1000, description="steps to count")
    pause_s: FiniteFloat = Field(0.5, ge=0, le=10, description="pause between steps, s")
