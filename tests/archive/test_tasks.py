"""The archive actors run through the job wrapper: download job -> ingest job, table import job."""

from __future__ import annotations

from pathlib import Path

import pytest

from apps.archive.models import ArchiveFile, FileState
from apps.archive.services import DownloadSpec, download_enqueue, tables_enqueue
from apps.archive.services.ledger import ledger_ingest
from apps.catalog.models import TCE, LightCurve
from apps.jobs.models import Job, JobStatus
from apps.jobs.runner import TransientJobError
from tests.archive.conftest import KEPLER90

pytestmark = pytest.mark.django_db


def test_it_runs_a_download_job_then_queues_and_runs_the_ingest_job(
    fake_archive,
    data_root: Path,
    settings,
    django_capture_on_commit_callbacks,  # noqa: ANN001
) -> None:
    settings.GAIA_JOBS_EAGER = True
    with django_capture_on_commit_callbacks(execute=True):
        download = download_enqueue(
            spec=DownloadSpec(mission="kepler", identifiers=[KEPLER90], seasons=[3, 4])
        )
    download.refresh_from_db()
    assert download.status == JobStatus.SUCCEEDED, download.error_summary
    assert download.result["counts"]["verified"] + download.result["counts"]["ingested"] == 2
    ingest = Job.objects.get(pk=download.result["ingest_job_id"])
    assert (ingest.kind, ingest.queue_name, ingest.status) == (
        "archive_ingest",
        "cpu",
        JobStatus.SUCCEEDED,
    )
    assert ingest.result == {"ingested": 2, "already_ingested": 0, "rejected": [], "failed": 0, "failures": []}
    assert LightCurve.objects.count() == 2
    # Run again (as a retried attempt would after a lost worker): nothing new, every file accounted for.
    again = ledger_ingest(files=list(ArchiveFile.objects.filter(pk__in=ingest.params["file_ids"])))
    assert (again["ingested"], again["already_ingested"], LightCurve.objects.count()) == (0, 2, 2)
    assert set(ArchiveFile.objects.filter(jobs=download).values_list("state", flat=True)) == {
        FileState.INGESTED,
        FileState.NOT_OBSERVED,
    }
    assert (
        download.progress_unit == "files" and download.progress_done == download.progress_total == 3
    )


def test_it_retries_a_download_job_whose_every_file_failed(
    fake_archive,
    data_root: Path,
    settings,
    django_capture_on_commit_callbacks,  # noqa: ANN001
) -> None:
    settings.GAIA_JOBS_EAGER = True
    fake_archive.add_fault("kplr011442793-2009350155506_llc.fits", "status", code=503, times=2)
    with pytest.raises(TransientJobError), django_capture_on_commit_callbacks(execute=True):
        download_enqueue(
            spec=DownloadSpec(mission="kepler", identifiers=[KEPLER90], seasons=[3], max_attempts=2)
        )
    job = Job.objects.get()
    # eager mode has no retries left, so the transient error fails the job with its reason
    assert job.status == JobStatus.FAILED and "all 1 files failed" in job.error_summary


def test_it_imports_the_local_tables_in_a_job(
    demo_data: Path, settings, django_capture_on_commit_callbacks
) -> None:  # noqa: ANN001
    settings.GAIA_JOBS_EAGER = True
    settings.GAIA_DEMO_DATA = demo_data  # the folder comes from the settings, never the parameters
    with django_capture_on_commit_callbacks(execute=True):
        job = tables_enqueue(names=["dr24_tce"], source="local")
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.queue_name == "downloads"
    assert job.result["tables"]["dr24_tce"]["tces_created"] == TCE.objects.count() > 20000
