"""Parameters of the ``load_demo`` job. The demo folder is GAIA_DEMO_DATA, never a parameter."""

from __future__ import annotations

from pydantic import Field

from apps.core.bounds import JobParams, Text


class LoadDemoParams(JobParams):
    skip: list[Text] = Field(default_factory=list, max_length=20, description="demo steps to skip")
