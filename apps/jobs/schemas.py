"""API schemas for jobs and artifacts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema

from apps.core.bounds import MAX_IDS, DbId, Text


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
    requested_by: str = Field("system", description="user name, or 'a user' when hidden from you")
    details_hidden: bool = Field(False, description="parameters, provenance and paths hidden from you")
    dispatch_pending: bool = Field(
        False, description="queued, but the broker has not taken its message yet (sent again automatically)"
    )
    parent_id: int | None = Field(None, description="the job this one is a batch of")


class ChildOut(Schema):
    id: int
    status: str
    progress_done: int
    progress_total: int | None


class ChildrenOut(Schema):
    children: int
    progress_done: int
    progress_total: int
    by_status: dict[str, int]


class JobDetailOut(JobOut):
    artifacts: list[ArtifactOut] = Field(default_factory=list)
    children_summary: ChildrenOut | None = Field(None, description="a parent's child jobs: counts and summed progress")
    children: list[ChildOut] = Field(default_factory=list, description="the first 200 child jobs")


class JobFilters(Schema):
    status: Text | None = None
    kind: Text | None = None
    target_id: DbId | None = None


class JobIn(Schema):
    kind: Text = Field(..., description="job kind, e.g. worker_check, download, process_target")
    params: dict[str, Any] = Field(
        default_factory=dict, description="the kind's parameters (README: Job parameters and bounds)"
    )
    target_ids: list[DbId] = Field(default_factory=list, max_length=MAX_IDS)


class JobRef(Schema):
    """Answer of endpoints that queue a job: its id and where to poll it."""

    job_id: int
    url: str


def job_ref(job) -> dict:  # noqa: ANN001 - a Job
    return {"job_id": job.pk, "url": f"/api/jobs/{job.pk}"}


def queued_status(job, created: int = 202) -> int:  # noqa: ANN001 - a Job
    """``created`` for a new job; 200 when an identical queued or running job was returned instead."""
    return 200 if getattr(job, "deduplicated", False) else created
