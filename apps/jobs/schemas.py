"""API schemas for jobs and artifacts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema


class ArtifactOut(Schema):
    id: int
    kind: str
    key: str
    version: int
    path: str
    sha256: str
    size_bytes: int
    created_at: datetime


class JobOut(Schema):
    id: int
    kind: str
    status: str
    stage: str
    progress_done: int
    progress_total: int | None
    progress_unit: str
    fraction: float | None
    eta_seconds: float | None
    cancel_requested: bool
    queue_name: str
    message_id: str
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_seconds: float | None
    error_summary: str
    params: dict[str, Any]
    timings: dict[str, Any]
    result: dict[str, Any]
    provenance: dict[str, Any]
    target_ids: list[int] = Field(default_factory=list)


class JobDetailOut(JobOut):
    artifacts: list[ArtifactOut] = Field(default_factory=list)


class JobFilters(Schema):
    status: str | None = None
    kind: str | None = None
    target_id: int | None = None


class JobIn(Schema):
    kind: str = Field(..., description="job kind, e.g. worker_check, download, process_target")
    params: dict[str, Any] = Field(default_factory=dict)
    target_ids: list[int] = Field(default_factory=list)


class JobRef(Schema):
    """Answer of endpoints that queue a job: its id and where to poll it."""

    job_id: int
    url: str


def job_ref(job) -> dict:  # noqa: ANN001 - a Job
    return {"job_id": job.pk, "url": f"/api/jobs/{job.pk}"}
