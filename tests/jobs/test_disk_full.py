"""A full disk under DATA_ROOT (a tmpfs the test mounts): work fails with "No space left on device"
in the job's error or the ledger, leaves no partial product, no ``.part``, no corrupt Parquet and
nothing in staging, and once space is freed a retry succeeds."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from django.db import transaction

from apps.archive.models import ArchiveFile, FileState
from apps.archive.science.naming import kepler_names
from apps.archive.services import ledger_ensure
from apps.catalog.models import LightCurve
from apps.jobs.foreground import run_in_foreground
from apps.jobs.integrity import data_check
from apps.jobs.models import Artifact, JobStatus
from apps.jobs.services import artifact_store, job_enqueue, job_retry
from tests import tinyfs
from tests.factories import TargetFactory, TCEFactory, lightcurve_from_fits
from tests.workers import wait_for

NO_SPACE = "No space left on device"
KEPLER90 = 11442793
EB_FILES = ["kplr002306740-2009259160929_llc.fits", "kplr002306740-2009350155506_llc.fits"]


@pytest.fixture
def tiny_data_root(tmp_path: Path, settings):  # noqa: ANN001, ANN201
    """DATA_ROOT on a 2 MiB tmpfs (skipped, saying why, where it cannot be mounted)."""
    yield from tinyfs.tiny_data_root(tmp_path, settings)


def leftovers(root: Path) -> list[str]:
    """Temporary files anywhere under DATA_ROOT (the staging folder and ``.part`` files)."""
    found = [p for p in root.rglob("*") if p.is_file() and p.name.endswith(".part")]
    found += [p for p in (root / ".staging").rglob("*") if p.is_file()]
    return sorted(str(p.relative_to(root)) for p in found)


def assert_clean(root: Path) -> None:
    report = data_check()
    assert report.consistent, report.as_dict()
    assert leftovers(root) == []


@pytest.mark.django_db
def test_an_ingest_that_runs_out_of_space_fails_only_the_files_that_did_not_fit(
    tiny_data_root, demo_data: Path
) -> None:  # noqa: ANN001
    names = kepler_names(KEPLER90, cadence="long", quarters=[3, 4, 5])
    rows = ledger_ensure(names=names)
    present = []
    for row in rows:  # the three quarters of the demo data, verified, waiting for their ingest
        source = demo_data / "kepler" / row.filename
        if not source.exists():
            continue
        local = tiny_data_root.root / row.local_path
        local.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, local)
        sha = hashlib.sha256(source.read_bytes()).hexdigest()
        ArchiveFile.objects.filter(pk=row.pk).update(state=FileState.VERIFIED, sha256=sha)
        present.append(row.pk)
    assert len(present) == 3
    # room for the first series (~104 kB), not for the second (~29 kB) on top of it
    tiny_data_root.fill(leave=120 * 1024)

    job = run_in_foreground(kind="archive_ingest", params={"file_ids": present}, show_progress=False)

    assert job.status == JobStatus.SUCCEEDED, job.error_summary
    assert job.result["ingested"] == 1 and job.result["failed"] == 2 and job.result["rejected"] == []
    assert all(NO_SPACE in f["error"] for f in job.result["failures"])
    waiting = ArchiveFile.objects.filter(pk__in=present, state=FileState.VERIFIED)
    assert waiting.count() == 2 and all(NO_SPACE in row.last_error for row in waiting)
    assert LightCurve.objects.count() == 1
    assert_clean(tiny_data_root.root)

    tiny_data_root.free()
    retry = run_in_foreground(kind="archive_ingest", params={"file_ids": present}, show_progress=False)
    assert retry.status == JobStatus.SUCCEEDED and retry.result["ingested"] == 2
    assert retry.result["failed"] == 0
    assert ArchiveFile.objects.filter(pk__in=present, state=FileState.INGESTED).count() == 3
    assert LightCurve.objects.count() == 3
    assert_clean(tiny_data_root.root)


@pytest.mark.django_db
def test_an_artifact_that_does_not_fit_leaves_nothing_behind(tiny_data_root, tmp_path: Path) -> None:  # noqa: ANN001
    source = tmp_path / "views.npz"
    source.write_bytes(bytes(range(256)) * 800)  # 200 kB
    tiny_data_root.fill(leave=64 * 1024)
    with pytest.raises(OSError, match=NO_SPACE):
        artifact_store(key="tce/1/views/gaia", kind="views", source=source, move=False)
    assert not Artifact.objects.exists()
    assert not list((tiny_data_root.root / "artifacts").rglob("*.npz"))
    assert_clean(tiny_data_root.root)

    tiny_data_root.free()
    artifact = artifact_store(key="tce/1/views/gaia", kind="views", source=source, move=False)
    assert artifact.version == 1 and artifact.sha256 == hashlib.sha256(source.read_bytes()).hexdigest()
    assert_clean(tiny_data_root.root)


@pytest.mark.django_db(transaction=True)
def test_a_processing_job_that_runs_out_of_space_fails_with_the_reason_and_a_retry_succeeds(
    tiny_data_root, demo_data: Path, worker, operator
) -> None:  # noqa: ANN001
    target = TargetFactory(identifier="2306740")
    for quarter, name in enumerate(EB_FILES, start=2):
        lightcurve_from_fits(target, demo_data / "kepler" / name, quarter=quarter)
    tce = TCEFactory(target=target, tce_number=3, period_days=10.307, epoch=138.748, duration_hours=18.64)
    # room for the flattened series (~385 kB) but not for the views written after it (~40 kB)
    tiny_data_root.fill(leave=400 * 1024)
    with transaction.atomic():
        job = job_enqueue(
            kind="process_target", params={"target_id": target.pk, "presets": ["gaia"]}, user=operator
        )

    failed = wait_for(job.pk, {JobStatus.FAILED, JobStatus.SUCCEEDED}, timeout=120)

    assert failed.status == JobStatus.FAILED and NO_SPACE in failed.error_summary
    assert list(Artifact.objects.values_list("kind", flat=True)) == ["flattened"]  # whole, and only it
    assert not Artifact.objects.filter(key__startswith=f"tce/{tce.pk}/").exists()
    assert_clean(tiny_data_root.root)

    tiny_data_root.free()
    with transaction.atomic():
        again = job_retry(job=failed, user=operator)
    done = wait_for(again.pk, {JobStatus.FAILED, JobStatus.SUCCEEDED}, timeout=120)
    assert done.status == JobStatus.SUCCEEDED, done.error_summary
    assert Artifact.objects.filter(key__startswith=f"tce/{tce.pk}/", kind="views").count() == 1
    assert_clean(tiny_data_root.root)
