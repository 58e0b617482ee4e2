"""Archive actors: downloads on the ``downloads`` queue, ingest and table imports on ``cpu``."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from apps.archive.errors import ArchiveUnavailable
from apps.archive.models import ArchiveFile, FileState
from apps.archive.services import (
    DownloadSpec,
    catalog_import_local_tables,
    catalog_import_tap,
    download_run,
    ingest_enqueue,
    ledger_ingest,
)
from apps.archive.services.jobs import (
    download_params_validate,
    ingest_params_validate,
    tables_params_validate,
)
from apps.jobs.models import Job
from apps.jobs.runner import JobContext, TransientJobError, job_actor


@job_actor(
    kind="archive_download", queue_name="downloads", max_retries=3, time_limit_s=48 * 3600,
    validate_params=download_params_validate,
)
def archive_download(job: Job, ctx: JobContext) -> dict:
    """Fetch and verify the files of a DownloadSpec, then queue their ingest on the cpu queue."""
    spec = DownloadSpec.from_params(job.params)
    ctx.stage("downloading")
    try:
        report = download_run(
            spec=spec,
            job=job,
            ingest_inline=False,
            on_progress=lambda done, total, _b: ctx.progress(done, total, unit="files"),
        )
    except ArchiveUnavailable as exc:
        raise TransientJobError(str(exc)) from exc
    if report["fetched"] and report["counts"]["failed"] == report["fetched"]:
        raise TransientJobError(
            f"all {report['fetched']} files failed; first: {report['failures'][0]['error']}"
        )
    verified = ArchiveFile.objects.filter(jobs=job, state=FileState.VERIFIED).values_list(
        "pk", flat=True
    )
    if spec.ingest and verified:
        report["ingest_job_id"] = ingest_enqueue(
            file_ids=list(verified), user=job.requested_by, parent=job
        ).pk
    return report


@job_actor(
    kind="archive_ingest", queue_name="cpu", max_retries=1, time_limit_s=12 * 3600,
    validate_params=ingest_params_validate,
)
def archive_ingest(job: Job, ctx: JobContext) -> dict:
    """Ingest verified ledger files (FITS -> Parquet + LightCurve rows), each on its own."""
    ctx.stage("ingesting")
    files = list(ArchiveFile.objects.filter(pk__in=job.params.get("file_ids", [])))
    return ledger_ingest(
        files=files,
        job=job,
        on_progress=lambda done, total: ctx.progress(done, total, unit="files"),
    )


@job_actor(
    kind="archive_import_tables", queue_name="downloads", max_retries=2, time_limit_s=3 * 3600,
    validate_params=tables_params_validate,
)
def archive_import_tables(job: Job, ctx: JobContext) -> dict:
    """Import catalogue tables from the Exoplanet Archive (TAP) or the local demo exports."""
    ctx.stage("importing tables")
    progress = lambda done, total: ctx.progress(done, total, unit="tables")  # noqa: E731
    if job.params.get("source") == "local":
        demo_dir = Path(settings.GAIA_DEMO_DATA)  # a folder is never taken from a request
        return catalog_import_local_tables(
            demo_dir=demo_dir, job=job, on_progress=progress, names=job.params.get("names")
        )
    try:
        return catalog_import_tap(
            names=job.params["names"], job=job, on_progress=progress, limit=job.params.get("limit")
        )
    except ArchiveUnavailable as exc:
        raise TransientJobError(str(exc)) from exc
