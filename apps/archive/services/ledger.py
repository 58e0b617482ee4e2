"""The download ledger: one ArchiveFile row per planned file, updated as fetch events arrive."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import psycopg
from django.db import connection
from django.db.models import Count, F
from django.utils import timezone

from apps.archive.clients import mast_download_url, raw_path
from apps.archive.fetch import FetchEvent
from apps.archive.models import SETTLED_STATES, ArchiveFile, FileState
from apps.archive.science.naming import ArchiveName, parse_name
from apps.archive.services.ingest import lightcurves_ingest_files
from apps.catalog.models import Target
from apps.core.files import data_root, relative_data_path
from apps.jobs.models import Job

MAX_FAILURES_REPORTED = 200

ProgressCallback = Callable[[int, int, int], None]
"""``on_progress(files_done, files_total, bytes_received)``."""


def ledger_ensure(*, names: Sequence[ArchiveName], job: Job | None = None) -> list[ArchiveFile]:
    """One ledger row per planned file (created if new), linked to ``job``; in plan order."""
    keys = {(n.mission, n.filename): n for n in names}
    existing = _ledger_rows(list(keys))
    targets = _targets_by_identifier(names)
    new = [
        ArchiveFile(
            mission=n.mission,
            filename=n.filename,
            uri=n.uri,
            url=mast_download_url(n),
            quarter_or_sector=n.season,
            cadence=n.cadence,
            local_path=relative_data_path(raw_path(n)),
            target_id=targets.get((n.mission, str(n.identifier))),
        )
        for key, n in keys.items()
        if key not in existing
    ]
    ArchiveFile.objects.bulk_create(new, batch_size=2000, ignore_conflicts=True)
    rows = _ledger_rows(list(keys))
    if job is not None:
        through = ArchiveFile.jobs.through
        links = [through(archivefile_id=row.pk, job_id=job.pk) for row in rows.values()]
        through.objects.bulk_create(links, batch_size=5000, ignore_conflicts=True)
    return [rows[key] for key in keys]


def _ledger_rows(keys: list[tuple[str, str]]) -> dict[tuple[str, str], ArchiveFile]:
    found: dict[tuple[str, str], ArchiveFile] = {}
    for start in range(0, len(keys), 5000):
        chunk = keys[start : start + 5000]
        names = [filename for _mission, filename in chunk]
        for row in ArchiveFile.objects.filter(filename__in=names):
            found[(row.mission, row.filename)] = row
    return found


def _targets_by_identifier(names: Sequence[ArchiveName]) -> dict[tuple[str, str], int]:
    wanted = {(n.mission, str(n.identifier)) for n in names}
    found: dict[tuple[str, str], int] = {}
    for mission in {m for m, _ in wanted}:
        ids = [i for m, i in wanted if m == mission]
        rows = Target.objects.filter(mission=mission, identifier__in=ids).values_list(
            "identifier", "pk"
        )
        found.update({(mission, ident): pk for ident, pk in rows})
    return found


def needs_fetch(row: ArchiveFile, *, recheck_missing: bool) -> bool:
    """Whether a ledger row must be (re)downloaded in this run.

    An ingested file whose LightCurve row still exists is done, even if its raw FITS was deleted
    to save disk; a verified (not yet ingested) file, or an ingested one whose LightCurve is gone,
    needs its raw file and is fetched again only if that file is missing.
    """
    if row.state == FileState.INGESTED and row.lightcurve_id is not None:
        return False
    if row.state in (FileState.VERIFIED, FileState.INGESTED):
        return not (data_root() / row.local_path).is_file()
    if row.state == FileState.NOT_OBSERVED:
        return recheck_missing
    return row.state not in SETTLED_STATES


def reopen_orphans(files: Sequence[ArchiveFile]) -> int:
    """Ingested rows whose LightCurve was deleted go back to verified, so they are ingested again."""
    ids = [row.pk for row in files if row.state == FileState.INGESTED and row.lightcurve_id is None]
    return ArchiveFile.objects.filter(pk__in=ids, lightcurve__isnull=True).update(
        state=FileState.VERIFIED
    )


class AdvisoryClaims:
    """One PostgreSQL advisory lock per file in flight, on a private connection.

    Two runs over the same files (two workers, or a worker and the command line) never write the
    same ``.part`` file: the second sees the claim and leaves the file alone. The locks belong to
    the connection, so a killed process releases them at once and a restart resumes immediately.
    At most ``concurrency`` locks are held at a time.
    """

    NAMESPACE = 0x4741 << 48  # keeps our keys apart from other users of advisory locks

    def __init__(self) -> None:
        params = connection.get_connection_params()
        keep = ("dbname", "user", "password", "host", "port", "sslmode")
        self._conn = psycopg.connect(
            **{k: v for k, v in params.items() if k in keep}, autocommit=True
        )

    def acquire(self, key: int) -> bool:
        return bool(
            self._conn.execute(
                "SELECT pg_try_advisory_lock(%s)", (self.NAMESPACE | key,)
            ).fetchone()[0]
        )

    def release(self, key: int) -> None:
        self._conn.execute("SELECT pg_advisory_unlock(%s)", (self.NAMESPACE | key,))

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> AdvisoryClaims:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LedgerWriter:
    """Applies fetch events to ledger rows and keeps the run's counters."""

    def __init__(
        self,
        rows: dict[int, ArchiveFile],
        total: int,
        on_progress: ProgressCallback | None,
        urls: dict[int, str] | None = None,
    ):
        self.rows = rows
        self.urls = urls or {}  # files fetched by a given URL (remote.py), not one from the name
        self.total = total
        self.on_progress = on_progress
        self.finished = 0
        self.bytes = 0
        self.retries = 0
        self.busy = 0
        self.failures: list[dict] = []
        self.open = set(rows)  # files without their final event yet

    def apply(self, event: FetchEvent) -> None:
        handler = getattr(self, f"_on_{event.kind}")
        handler(event)
        if event.kind in ("done", "missing", "failed", "busy"):
            self.open.discard(event.key)
        if self.on_progress and event.kind != "started":
            self.on_progress(self.finished, self.total, self.bytes)

    def close(self) -> None:
        """After a run that ended normally: a file the engine gave no outcome is a failure with
        a reason, never a row left pending (the engine promises one event per file; this keeps
        the ledger honest should that promise ever break)."""
        for key in sorted(self.open):
            self.apply(FetchEvent(key, "failed", error="the download engine reported no outcome"))

    def _update(self, key: int, **fields: object) -> None:
        ArchiveFile.objects.filter(pk=key).update(**fields, updated_at=timezone.now())

    def _on_started(self, event: FetchEvent) -> None:
        row = self.rows[event.key]
        self._update(
            event.key,
            state=FileState.DOWNLOADING,
            attempts=F("attempts") + 1,
            url=self.urls.get(event.key) or mast_download_url(parse_name(row.filename)),
        )

    def _on_progress(self, event: FetchEvent) -> None:
        self.bytes += event.nbytes

    def _on_retrying(self, event: FetchEvent) -> None:
        self.retries += 1
        self._update(event.key, last_error=f"attempt {event.attempt}: {event.error}"[:2000])

    def _on_done(self, event: FetchEvent) -> None:
        self.finished += 1
        self._update(
            event.key,
            state=FileState.VERIFIED,
            bytes=event.nbytes,
            sha256=event.sha256,
            verified_at=timezone.now(),
            last_error="",
        )

    def _on_missing(self, event: FetchEvent) -> None:
        self.finished += 1
        self._update(
            event.key, state=FileState.NOT_OBSERVED, last_error="HTTP 404: not in the archive"
        )

    def _on_busy(self, event: FetchEvent) -> None:
        self.finished += 1
        self.busy += 1

    def _on_failed(self, event: FetchEvent) -> None:
        self.finished += 1
        self._update(event.key, state=FileState.FAILED, last_error=event.error[:2000])
        if len(self.failures) < MAX_FAILURES_REPORTED:
            self.failures.append(
                {
                    "filename": self.rows[event.key].filename,
                    "error": event.error,
                    "attempts": event.attempt,
                }
            )


def ledger_ingest(
    *,
    files: Sequence[ArchiveFile],
    job: Job | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Ingest the verified files among ``files``; the ledger moves them to ingested/rejected.

    ``rejected`` lists files whose content is unusable; ``failed`` those that could not be
    written here (a full disk): they stay verified, with the reason, for the next run.
    ``already_ingested`` counts files an earlier run (or an earlier attempt of this job, cut short
    by a lost worker) had ingested, so a retried job's report still accounts for every file.
    """
    ids = [row.pk for row in files]
    already = ArchiveFile.objects.filter(pk__in=ids, state=FileState.INGESTED).count()
    verified = list(ArchiveFile.objects.filter(pk__in=ids, state=FileState.VERIFIED))
    outcomes = lightcurves_ingest_files(
        paths=[data_root() / row.local_path for row in verified],
        sha256s={row.filename: row.sha256 for row in verified if row.sha256},
        job=job,
        on_progress=on_progress,
    )
    rejected = [{"filename": o.path.name, "error": o.error} for o in outcomes if o.error and not o.local]
    failed = [{"filename": o.path.name, "error": o.error} for o in outcomes if o.local]
    return {
        "ingested": len(outcomes) - len(rejected) - len(failed),
        "already_ingested": already,
        "rejected": rejected[:MAX_FAILURES_REPORTED],
        "failed": len(failed),
        "failures": failed[:MAX_FAILURES_REPORTED],
    }


def ledger_counts(*, files: Sequence[ArchiveFile]) -> dict[str, int]:
    """Files per state, over the given ledger rows (read fresh from the database)."""
    ids = [row.pk for row in files]
    counts = {state: 0 for state in FileState.values}
    for start in range(0, len(ids), 10000):
        rows = (
            ArchiveFile.objects.filter(pk__in=ids[start : start + 10000])
            .values("state")
            .annotate(n=Count("id"))
        )
        for row in rows:
            counts[row["state"]] += row["n"]
    return counts
