"""manage.py download / import_tables, in the foreground and with --enqueue."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from apps.catalog.models import TCE, LightCurve, Target
from apps.jobs.models import Job, JobStatus
from tests.archive.conftest import KEPLER90

pytestmark = pytest.mark.django_db


def test_it_downloads_and_ingests_from_the_command_line(fake_archive, data_root: Path) -> None:  # noqa: ANN001
    out = io.StringIO()
    call_command("download", "kepler", "--kic", f"KIC {KEPLER90}", "--concurrency", "4", stdout=out)
    assert LightCurve.objects.count() == 3
    assert "19 files (19 fetched, 0 already settled)" in out.getvalue()
    assert "ingested 3" in out.getvalue() and "not_observed 16" in out.getvalue()


def test_it_exits_with_an_error_when_files_failed(fake_archive, data_root: Path) -> None:  # noqa: ANN001
    fake_archive.add_fault(
        "kplr011442793-2009350155506_llc.fits", "status", code=404 + 6
    )  # 410 Gone: not retried
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 file\\(s\\) failed"):
        call_command("download", "kepler", "--kic", str(KEPLER90), "--quarter", "3-5", stdout=out)
    assert "FAILED kplr011442793-2009350155506_llc.fits: HTTP 410 (not retried)" in out.getvalue()
    assert LightCurve.objects.count() == 2


def test_it_queues_a_job_instead_with_enqueue(data_root: Path) -> None:
    out = io.StringIO()
    call_command("download", "tess", "--tic", "25155310", "--sector", "1", "--enqueue", stdout=out)
    job = Job.objects.get()
    assert (job.kind, job.status, job.queue_name) == (
        "archive_download",
        JobStatus.QUEUED,
        "downloads",
    )
    assert (
        job.params["mission"] == "tess"
        and job.params["identifiers"] == [25155310]
        and job.params["seasons"] == [1]
    )
    assert f"queued job {job.pk}" in out.getvalue()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["kepler", "--kic", "abc"], "'abc' is not a KIC number"),
        (["kepler"], "give at least one identifier"),
        (["catalog"], "say which catalogue"),
        (["kepler", "--kic", "5", "--source", "mirror"], "needs a mirror folder"),
    ],
)
def test_it_refuses_bad_arguments_clearly(args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("download", *args)


def test_it_imports_one_table_from_a_file(demo_data: Path) -> None:
    out = io.StringIO()
    call_command(
        "import_tables",
        "koi",
        "--file",
        str(demo_data / "catalogs" / "q1_q17_dr25_koi.csv"),
        stdout=out,
    )
    assert Target.objects.get(mission="kepler", identifier=str(KEPLER90)).name == "Kepler-90"
    assert '"targets_created"' in out.getvalue()


def test_it_imports_tables_from_tap_and_queues_imports(fake_archive, data_root: Path) -> None:  # noqa: ANN001
    call_command("import_tables", "dr24_tce", "--tap", "--limit", "25", stdout=io.StringIO())
    assert TCE.objects.count() == 25
    call_command("import_tables", "toi", "--tap", "--enqueue", stdout=io.StringIO())
    assert Job.objects.get().params == {
        "names": ["toi"],
        "source": "tap",
        "limit": None,
    }
