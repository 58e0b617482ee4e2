"""Fault injection into each step of a transfer: every file still ends with a recorded outcome.

Each test makes one step of the download engine (claim, receive, write, verify, publish) raise,
by replacing that step's real function on the engine, while the real engine fetches twelve
quarters of KIC 2306740 from the local fake archive into the real ledger. Whatever the step and
the exception, each file ends verified or failed with the reason in the ledger and the report:
nothing stays pending, nothing is swallowed, no ``.part`` is left behind.
"""

from __future__ import annotations

import errno
import hashlib
import itertools
from pathlib import Path

import psycopg
import pytest

from apps.archive.fetch import _Engine
from apps.archive.models import ArchiveFile, FileState
from apps.archive.services import DownloadSpec, download_run
from tests.archive.conftest import ECLIPSING_BINARY

pytestmark = pytest.mark.django_db
FAST = {"backoff_base_s": 0.02, "backoff_max_s": 0.1}
QUARTERS = [1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13]  # twelve files, all in the demo data

#: step -> (the exception it raises, what the file's recorded reason says)
FAULTS = {
    "claim": (
        psycopg.OperationalError("server closed the connection unexpectedly"),
        "claim failed: OperationalError: server closed the connection unexpectedly",
    ),
    "receive": (RuntimeError("injected receive fault"), "receive failed: RuntimeError"),
    "write": (
        OSError(errno.ENOSPC, "No space left on device"),
        "local file error in write: [Errno 28] No space left on device",
    ),
    "verify": (ValueError("injected verify fault"), "verify failed: ValueError"),
    "publish": (
        OSError(errno.EIO, "Input/output error"),
        "local file error in publish: [Errno 5] Input/output error",
    ),
}


def inject(monkeypatch, step: str, *, nth: int, onwards: bool) -> None:  # noqa: ANN001
    """Make ``_Engine.<step>`` raise on its ``nth`` call (and every later one if ``onwards``)."""
    real = getattr(_Engine, step)
    calls = itertools.count(1)  # the steps run on the engine's event loop: no lock needed
    error = FAULTS[step][0]

    async def faulty(self, *args):  # noqa: ANN001, ANN202
        n = next(calls)
        if n == nth or (onwards and n > nth):
            raise error
        return await real(self, *args)

    monkeypatch.setattr(_Engine, step, faulty)


def run() -> dict:
    spec = DownloadSpec(
        mission="kepler", identifiers=[ECLIPSING_BINARY], seasons=QUARTERS, ingest=False,
        concurrency=4, max_attempts=3,
    )  # fmt: skip
    return download_run(spec=spec, policy_overrides=FAST)


def check_every_file_settled(report: dict, data_root: Path, fake_archive) -> list[ArchiveFile]:  # noqa: ANN001
    """Each file verified (bytes as served) or failed with a reason; the report agrees."""
    rows = list(ArchiveFile.objects.all())
    assert len(rows) == len(QUARTERS)
    states = {row.state for row in rows}
    assert states <= {FileState.VERIFIED, FileState.FAILED}, states
    failed = [row for row in rows if row.state == FileState.FAILED]
    assert report["counts"]["failed"] == len(failed)
    assert report["counts"]["verified"] == len(rows) - len(failed)
    assert report["counts"]["pending"] == report["counts"]["downloading"] == 0
    assert sorted(f["filename"] for f in report["failures"]) == sorted(r.filename for r in failed)
    for row in rows:
        local = data_root / row.local_path
        if row.state == FileState.VERIFIED:
            served = fake_archive.files[row.filename].read_bytes()
            assert hashlib.sha256(local.read_bytes()).hexdigest() == row.sha256
            assert row.sha256 == hashlib.sha256(served).hexdigest()
        else:
            assert row.last_error and not local.exists()
    assert not list(data_root.rglob("*.part"))
    return failed


@pytest.mark.parametrize("step", list(FAULTS))
def test_it_fails_every_file_whose_step_raises_from_the_fourth_call_on(
    step: str, monkeypatch, fake_archive, data_root: Path
) -> None:  # noqa: ANN001
    inject(monkeypatch, step, nth=4, onwards=True)
    report = run()
    failed = check_every_file_settled(report, data_root, fake_archive)
    # every step is called at least once per file (write: once per block), so the first three
    # calls leave at most three files whole
    assert len(failed) >= 9 if step == "write" else len(failed) == 9
    reason = FAULTS[step][1]
    assert all(reason in row.last_error for row in failed), [r.last_error for r in failed]
    assert all(reason in f["error"] for f in report["failures"])


@pytest.mark.parametrize("step", list(FAULTS))
def test_it_fails_only_the_file_whose_step_raised_once(
    step: str, monkeypatch, fake_archive, data_root: Path
) -> None:  # noqa: ANN001
    inject(monkeypatch, step, nth=2, onwards=False)
    report = run()
    [failed] = check_every_file_settled(report, data_root, fake_archive)
    assert FAULTS[step][1] in failed.last_error
    attempts = 0 if step == "claim" else 1  # a file never claimed was never requested
    assert report["failures"] == [
        {"filename": failed.filename, "error": failed.last_error, "attempts": attempts}
    ]


def test_it_fetches_the_failed_files_on_the_next_run(monkeypatch, fake_archive, data_root: Path) -> None:  # noqa: ANN001
    inject(monkeypatch, "claim", nth=4, onwards=True)
    run()
    monkeypatch.undo()
    report = run()
    assert report["fetched"] == 9 and report["failures"] == []
    assert report["counts"]["verified"] == len(QUARTERS)
    check_every_file_settled(report, data_root, fake_archive)


def test_a_file_the_engine_gives_no_outcome_is_failed_not_left_pending(
    monkeypatch, fake_archive, data_root: Path
) -> None:  # noqa: ANN001
    real = _Engine._fetch_one
    calls = itertools.count(1)

    async def silent(self, transport, request):  # noqa: ANN001, ANN202
        if next(calls) == 5:
            return  # a broken promise: no event at all for this file
        await real(self, transport, request)

    monkeypatch.setattr(_Engine, "_fetch_one", silent)
    report = run()
    [failed] = check_every_file_settled(report, data_root, fake_archive)
    assert failed.last_error == "the download engine reported no outcome"
