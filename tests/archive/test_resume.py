"""A download killed with SIGKILL resumes: no verified file fetched again, partial files continued."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from apps.archive.fetch import part_path
from apps.archive.models import ArchiveFile, FileState
from apps.catalog.models import LightCurve
from tests.archive.conftest import ECLIPSING_BINARY
from tests.conftest import REPO_ROOT


def database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def wait_for(condition, timeout: float) -> bool:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.django_db(transaction=True)
def test_it_resumes_a_killed_download_without_fetching_verified_files_again(
    fake_archive, data_root: Path
) -> None:  # noqa: ANN001
    fake_archive.chunk_delay_s = 0.03  # ~1 s per file, so the kill lands mid-download
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DATA_ROOT": str(data_root),
        "GAIA_MAST_URL": fake_archive.url,
        "GAIA_MAST_ARCHIVE_URL": fake_archive.url,
    }
    command = [
        sys.executable,
        "manage.py",
        "download",
        "kepler",
        "--kic",
        str(ECLIPSING_BINARY),
        "--concurrency",
        "3",
    ]
    worker = subprocess.Popen(
        command, cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        verified = ArchiveFile.objects.filter(state=FileState.VERIFIED)
        assert wait_for(lambda: verified.count() >= 4, timeout=60), (
            worker.stderr.read1().decode() if worker.poll() is not None else "too slow"
        )
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
    killed_at = len(fake_archive.log)
    done_before = set(
        ArchiveFile.objects.filter(state=FileState.VERIFIED).values_list("filename", flat=True)
    )
    interrupted = list(ArchiveFile.objects.filter(state=FileState.DOWNLOADING))
    assert interrupted, "the kill should catch downloads in flight"
    assert any(part_path(data_root / row.local_path).exists() for row in interrupted)

    fake_archive.chunk_delay_s = 0.0
    call_command("download", "kepler", "--kic", str(ECLIPSING_BINARY), "--concurrency", "3")

    after = fake_archive.log[killed_at:]
    assert not [entry for entry in after if entry.filename in done_before], (
        "verified files were fetched again"
    )
    resumed = [entry for entry in after if entry.status == 206]
    assert resumed and all(int(entry.range[6:-1]) > 0 for entry in resumed)
    assert ArchiveFile.objects.count() == 19 and LightCurve.objects.count() == 17
    for row in ArchiveFile.objects.filter(state=FileState.INGESTED):
        local = (data_root / row.local_path).read_bytes()
        assert (
            hashlib.sha256(local).hexdigest()
            == row.sha256
            == hashlib.sha256(fake_archive.files[row.filename].read_bytes()).hexdigest()
        )
    assert not list(data_root.rglob("*.part"))
