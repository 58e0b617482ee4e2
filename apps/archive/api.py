"""Archive API: queue downloads and table imports, read a job's download ledger.

Mounted by the platform as ``api.add_router("/archive/", apps.archive.api.router)``.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.pagination import paginate
from pydantic import Field

from apps.archive.schemas import (
    DownloadIn,
    JobQueuedOut,
    LedgerEntryOut,
    LedgerSummaryOut,
    TablesIn,
)
from apps.archive.selectors import ledger_for_job, ledger_summary
from apps.archive.services import (
    DownloadSpec,
    download_enqueue,
    tables_enqueue,
    targets_fetch_enqueue,
)
from apps.catalog.selectors import targets_by_ids
from apps.core.pagination import MAX_OFFSET, LimitOffsetPagination
from apps.jobs.models import Job
from apps.jobs.schemas import queued_status
from apps.jobs.selectors import job_get

router = Router(tags=["archive"])


class LedgerPagination(LimitOffsetPagination):
    class Input(Schema):
        limit: int = Field(100, ge=1, le=1000)
        offset: int = Field(0, ge=0, le=MAX_OFFSET)


def _queued(job: Job) -> JobQueuedOut:
    return JobQueuedOut(job_id=job.pk, kind=job.kind, status=job.status, queue=job.queue_name)


@router.post("/downloads", response={200: list[JobQueuedOut], 202: list[JobQueuedOut]})
def create_download(request: HttpRequest, payload: DownloadIn):
    """Queue downloads: for targets (by id), identifiers of one mission, or a catalogue's hosts."""
    if payload.target_ids:
        targets = targets_by_ids(ids=payload.target_ids)
        jobs = targets_fetch_enqueue(targets=targets, user=request.user)
        return Status(min((queued_status(job) for job in jobs), default=202), [_queued(job) for job in jobs])
    fields = payload.dict(exclude={"target_ids"})
    job = download_enqueue(spec=DownloadSpec.from_params(fields), user=request.user)
    return Status(queued_status(job), [_queued(job)])


@router.get("/downloads/{job_id}", response=LedgerSummaryOut)
def download_summary(request: HttpRequest, job_id: int):
    """Files of a download job by state, and bytes on disk."""
    return ledger_summary(job=job_get(job_id=job_id))


@router.get("/downloads/{job_id}/files", response=list[LedgerEntryOut])
@paginate(LedgerPagination)
def download_files(request: HttpRequest, job_id: int, state: str | None = None):
    """The ledger entries of a download job (optionally one state), paginated."""
    return ledger_for_job(job=job_get(job_id=job_id), state=state)


@router.post("/tables", response={200: JobQueuedOut, 202: JobQueuedOut})
def import_tables(request: HttpRequest, payload: TablesIn):
    """Queue a catalogue import from the Exoplanet Archive TAP service (or the local exports)."""
    job = tables_enqueue(
        names=payload.names, source=payload.source, limit=payload.limit, user=request.user
    )
    return Status(queued_status(job), _queued(job))
