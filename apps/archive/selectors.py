"""Reads for the archive app: ledger entries and their counts."""

from __future__ import annotations

from django.db.models import Count, QuerySet, Sum

from apps.archive.models import ArchiveFile, FileState
from apps.core.errors import InvalidInput
from apps.jobs.models import Job


def ledger_for_job(*, job: Job, state: str | None = None) -> QuerySet[ArchiveFile]:
    """The ledger rows a job asked for (optionally one state), in file-name order."""
    rows = ArchiveFile.objects.filter(jobs=job).order_by("mission", "filename")
    if state:
        if state not in FileState.values:
            raise InvalidInput(f"unknown state {state!r}; use one of {', '.join(FileState.values)}")
        rows = rows.filter(state=state)
    return rows


def ledger_summary(*, job: Job) -> dict:
    """Counts by state and bytes on disk of a job's files."""
    rows = ArchiveFile.objects.filter(jobs=job)
    counts = {state: 0 for state in FileState.values}
    counts.update({row["state"]: row["n"] for row in rows.values("state").annotate(n=Count("id"))})
    total_bytes = rows.aggregate(total=Sum("bytes"))["total"] or 0
    return {
        "job_id": job.pk,
        "status": job.status,
        "counts": counts,
        "files": sum(counts.values()),
        "bytes": total_bytes,
    }

