"""Files other apps name by URL (GALEX raw6 and scst), fetched through the same ledger.

Each file is an :class:`ArchiveFile` row (unique per mission and file name), so a second run
skips what is verified, resumes a ``.part`` with an HTTP Range request, retries 5xx/timeouts
with backoff and deletes what fails its ``verify`` check: the light-curve downloads' machinery
(:mod:`apps.archive.fetch`), with the URL given by the caller instead of derived from the name.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from apps.archive.clients import fetch_policy
from apps.archive.errors import ArchiveUnavailable
from apps.archive.fetch import FetchRequest, fetch_files
from apps.archive.models import SETTLED_STATES, ArchiveFile, FileState
from apps.archive.services.ledger import (
    AdvisoryClaims,
    LedgerWriter,
    ProgressCallback,
    needs_fetch,
)
from apps.core.files import data_root, relative_data_path
from apps.jobs.models import Job


@dataclass(frozen=True)
class RemoteFile:
    """One file to fetch: ledger identity (mission, filename), its URL, where it goes, a check."""

    mission: str
    filename: str
    url: str
    local_path: Path  # absolute, under DATA_ROOT
    verify: Callable[[Path], None] | None = None


def remote_files_fetch(
    *,
    files: Sequence[RemoteFile],
    job: Job | None = None,
    max_attempts: int = 5,
    on_progress: ProgressCallback | None = None,
    policy_overrides: dict | None = None,
) -> dict:
    """Fetch and verify the files the ledger does not hold yet; return the run's report.

    ``report["rows"]`` maps file name to its ledger state after the run; ``failures`` lists
    what did not arrive, with the reason.
    """
    started = time.monotonic()
    rows = []
    for f in files:
        row, _ = ArchiveFile.objects.get_or_create(
            mission=f.mission,
            filename=f.filename,
            defaults={"uri": f.url[:300], "url": f.url[:500], "local_path": relative_data_path(f.local_path)},
        )
        if job is not None:
            row.jobs.add(job)
        rows.append(row)
    by_name = {f.filename: f for f in files}
    todo = [row for row in rows if needs_fetch(row, recheck_missing=True)]
    ArchiveFile.objects.filter(pk__in=[r.pk for r in todo], state__in=SETTLED_STATES).update(
        state=FileState.PENDING
    )
    requests = [
        FetchRequest(
            key=row.pk,
            url=by_name[row.filename].url,
            dest=data_root() / row.local_path,
            verify=by_name[row.filename].verify,
        )
        for row in todo
    ]
    writer = LedgerWriter(
        {row.pk: row for row in todo},
        len(todo),
        on_progress,
        urls={row.pk: by_name[row.filename].url for row in todo},
    )
    policy = fetch_policy(concurrency=4, max_attempts=max_attempts, **(policy_overrides or {}))
    with AdvisoryClaims() as claims:
        for event in fetch_files(requests, policy, claims=claims):
            writer.apply(event)
    writer.close()
    states = dict(
        ArchiveFile.objects.filter(pk__in=[r.pk for r in rows]).values_list("filename", "state")
    )
    return {
        "files": len(rows),
        "fetched": len(todo),
        "skipped": len(rows) - len(todo),
        "bytes_downloaded": writer.bytes,
        "retries": writer.retries,
        "busy_elsewhere": writer.busy,
        "seconds": round(time.monotonic() - started, 3),
        "failures": writer.failures,
        "rows": states,
    }


def archive_query(url: str, *, verify: Callable[[Path], None] | None = None, **policy: float) -> bytes:
    """One small answer (a catalogue or URL query), with the downloads' retries and checks.

    Raises :class:`ArchiveUnavailable` when no good answer came back.
    """
    with tempfile.TemporaryDirectory(dir=data_root()) as folder:
        dest = Path(folder) / "answer"
        request = FetchRequest(key=0, url=url, dest=dest, verify=verify)
        events = list(fetch_files([request], fetch_policy(concurrency=1, **policy)))
        final = events[-1]
        if final.kind != "done":
            raise ArchiveUnavailable(f"query {url} failed: {final.error or final.kind}")
        return dest.read_bytes()
