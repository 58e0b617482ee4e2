"""Light-curve downloads: plan the files, keep the ledger, fetch, verify, then ingest.

The ledger (:class:`ArchiveFile`, one row per file) is written as events arrive, so a run killed
at any moment resumes from it: verified files are not fetched again, interrupted ones continue
from their ``.part`` file with an HTTP Range request, and 404s of planned quarters stay
"not observed". Each file ends in its own state; the run returns a report with counts and the
failures with their reasons.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

from apps.archive.clients import (
    SOURCES,
    fetch_policy,
    mast_download_url,
    mirror_root_for,
    transport_for,
    verify_fits_file,
)
from apps.archive.fetch import FetchRequest, fetch_files
from apps.archive.models import SETTLED_STATES, ArchiveFile, FileState, TessSectorFile
from apps.archive.params import DownloadParams
from apps.archive.science.errors import ArchiveDataError
from apps.archive.science.naming import (
    ArchiveName,
    k2_names,
    kepler_names,
    parse_identifier,
    parse_name,
)
from apps.archive.services.ledger import (
    AdvisoryClaims,
    LedgerWriter,
    ProgressCallback,
    ledger_counts,
    ledger_ensure,
    ledger_ingest,
    needs_fetch,
    reopen_orphans,
)
from apps.archive.services.tess import TESS_LAST_SECTOR, tess_sector_scripts_ensure
from apps.catalog.models import TCE, Mission, TCESource
from apps.core.bounds import params_validate
from apps.core.errors import InvalidInput
from apps.core.files import data_root
from apps.jobs.models import Job

CATALOGS = {
    "dr24": (Mission.KEPLER, TCESource.KEPLER_DR24),
    "dr25": (Mission.KEPLER, TCESource.KEPLER_DR25),
    "koi": (Mission.KEPLER, TCESource.KEPLER_KOI),
    "toi": (Mission.TESS, TCESource.TESS_TOI),
}
"""Catalogue name -> (mission, TCE source) whose host stars a catalogue download fetches."""

MISSIONS = ("kepler", "k2", "tess")


@dataclass
class DownloadSpec:
    """What to download; also the params of an ``archive_download`` job (JSON-serialisable)."""

    mission: str = "kepler"
    identifiers: list[int] = field(default_factory=list)
    cadence: str = "long"
    seasons: list[int] | None = None
    catalog: str | None = None
    limit: int | None = None
    ingest: bool = True
    source: str = "mast"  # "mirror" reads GAIA_ARCHIVE_MIRROR_ROOT (a folder is never a parameter)
    concurrency: int | None = None
    max_attempts: int = 5
    recheck_missing: bool = False

    @classmethod
    def from_params(cls, params: dict) -> DownloadSpec:
        """Build and validate a spec from job params or API input (``DownloadParams``: unknown keys refused)."""
        spec = cls(**params_validate(DownloadParams, params, what="archive_download").model_dump())
        spec.validate()
        return spec

    def validate(self) -> None:
        """Raise InvalidInput for unknown missions/catalogues, bad identifiers or options."""
        if self.catalog is not None:
            if self.catalog not in CATALOGS:
                raise InvalidInput(
                    f"unknown catalogue {self.catalog!r}; use one of {', '.join(CATALOGS)}"
                )
            self.mission = CATALOGS[self.catalog][0]
            if self.limit is not None and self.limit < 1:
                raise InvalidInput("limit must be at least 1")
        elif self.mission not in MISSIONS:
            raise InvalidInput(
                f"unknown mission {self.mission!r}; use one of {', '.join(MISSIONS)}"
            )
        elif not self.identifiers:
            raise InvalidInput("give at least one identifier (KIC, EPIC or TIC) or a catalogue")
        if self.cadence not in ("long", "short"):
            raise InvalidInput(f"cadence must be 'long' or 'short', not {self.cadence!r}")
        if not 1 <= int(self.max_attempts) <= 20:
            raise InvalidInput("max_attempts must be between 1 and 20")
        try:
            self.identifiers = [parse_identifier(i, mission=self.mission) for i in self.identifiers]
            if self.seasons is not None and self.mission == "kepler":  # unknown quarters refused now
                kepler_names(1, cadence=self.cadence, quarters=self.seasons)
            elif self.seasons is not None and self.mission == "k2":
                k2_names(1, campaigns=self.seasons)
        except ArchiveDataError as exc:
            raise InvalidInput(str(exc)) from exc
        if self.source not in SOURCES:
            raise InvalidInput(f"unknown source {self.source!r}; use one of {', '.join(SOURCES)}")

    def as_params(self) -> dict:
        return asdict(self)


def _catalog_identifiers(spec: DownloadSpec) -> list[int]:
    mission, source = CATALOGS[spec.catalog]
    hosts = (
        TCE.objects.filter(source=source)
        .values_list("target__identifier", flat=True)
        .distinct()
        .order_by("target__identifier")
    )
    identifiers = [int(i) for i in hosts[: spec.limit] if str(i).isdigit()]
    if not identifiers:
        raise InvalidInput(
            f"no {spec.catalog} TCEs in the database: import the table first (manage.py import_tables)"
        )
    return identifiers


def download_plan(*, spec: DownloadSpec, mirror_root: str | None = None) -> list[ArchiveName]:
    """Every file the request may need (Kepler: all quarter stamps; TESS: from sector scripts)."""
    identifiers = _catalog_identifiers(spec) if spec.catalog else spec.identifiers
    try:
        if spec.mission == "kepler":
            return [
                n
                for kic in identifiers
                for n in kepler_names(kic, cadence=spec.cadence, quarters=spec.seasons)
            ]
        if spec.mission == "k2":
            return [n for epic in identifiers for n in k2_names(epic, campaigns=spec.seasons)]
    except ArchiveDataError as exc:
        raise InvalidInput(str(exc)) from exc
    sectors = spec.seasons or list(range(1, TESS_LAST_SECTOR + 1))
    tess_sector_scripts_ensure(sectors=sectors, source=spec.source, mirror_root=mirror_root)
    rows = TessSectorFile.objects.filter(tic_id__in=identifiers, sector_id__in=sectors).order_by(
        "sector_id", "tic_id"
    )
    return [parse_name(row.filename) for row in rows]


def download_files(
    *,
    files: Sequence[ArchiveFile],
    source: str = "mast",
    mirror_root: str | None = None,
    concurrency: int | None = None,
    max_attempts: int = 5,
    recheck_missing: bool = False,
    on_progress: ProgressCallback | None = None,
    policy_overrides: dict | None = None,
) -> dict:
    """Fetch and verify the ledger files that still need it; return the run's report.

    Parameters
    ----------
    files : sequence of ArchiveFile
        Ledger rows (see :func:`ledger_ensure`); settled ones are skipped.
    source, mirror_root : str
        ``"mast"`` (the network) or ``"mirror"`` with a local folder (default
        ``GAIA_ARCHIVE_MIRROR_ROOT``).
    concurrency, max_attempts : int
        Requests in flight (default ``GAIA_DOWNLOAD_CONCURRENCY``) and attempts per file.
    recheck_missing : bool
        Ask again for files recorded as not observed.
    on_progress : callable, optional
        ``on_progress(files_done, files_total, bytes_received)``; may raise to cancel the run.
    policy_overrides : dict, optional
        Extra :class:`~apps.archive.fetch.FetchPolicy` fields (timeouts, backoff; tests, benches).
    """
    started = time.monotonic()
    reopen_orphans(files)
    todo = [row for row in files if needs_fetch(row, recheck_missing=recheck_missing)]
    stale = [row.pk for row in todo if row.state != FileState.PENDING]
    ArchiveFile.objects.filter(pk__in=stale, state__in=SETTLED_STATES).update(
        state=FileState.PENDING
    )
    policy = fetch_policy(
        concurrency=concurrency, max_attempts=max_attempts, **(policy_overrides or {})
    )
    requests = [
        FetchRequest(
            key=row.pk,
            url=mast_download_url(parse_name(row.filename)),
            dest=data_root() / row.local_path,
            verify=verify_fits_file,
        )
        for row in todo
    ]
    writer = LedgerWriter({row.pk: row for row in todo}, len(todo), on_progress)
    transport = transport_for(source=source, mirror_root=mirror_root)
    with AdvisoryClaims() as claims:
        for event in fetch_files(requests, policy, transport=transport, claims=claims):
            writer.apply(event)
    writer.close()
    seconds = time.monotonic() - started
    return {
        "source": source if source == "mast" else f"mirror:{mirror_root_for(mirror_root)}",
        "files": len(files),
        "fetched": len(todo),
        "skipped": len(files) - len(todo),
        "bytes_downloaded": writer.bytes,
        "retries": writer.retries,
        "busy_elsewhere": writer.busy,
        "seconds": round(seconds, 3),
        "mb_per_s": round(writer.bytes / 1e6 / seconds, 3) if seconds > 0 else None,
        "failures": writer.failures,
    }


def download_run(
    *,
    spec: DownloadSpec,
    job: Job | None = None,
    ingest_inline: bool = True,
    on_progress: ProgressCallback | None = None,
    on_ingest_progress: Callable[[int, int], None] | None = None,
    policy_overrides: dict | None = None,
    mirror_root: str | None = None,
) -> dict:
    """Plan, fetch, verify and (optionally) ingest what ``spec`` asks for; return the report.

    ``ingest_inline=False`` leaves verified files for an ingest job (the actor enqueues one on
    the cpu queue); the command line ingests inline. ``mirror_root`` (the command line's
    ``--mirror``) overrides ``GAIA_ARCHIVE_MIRROR_ROOT`` for ``source="mirror"``.
    """
    spec.validate()
    transport_for(source=spec.source, mirror_root=mirror_root)  # a missing mirror fails before any work
    names = download_plan(spec=spec, mirror_root=mirror_root)
    files = ledger_ensure(names=names, job=job)
    report: dict = {"request": spec.as_params()}
    report.update(
        download_files(
            files=files,
            source=spec.source,
            mirror_root=mirror_root,
            concurrency=spec.concurrency,
            max_attempts=spec.max_attempts,
            recheck_missing=spec.recheck_missing,
            on_progress=on_progress,
            policy_overrides=policy_overrides,
        )
    )
    if spec.ingest and ingest_inline:
        report["ingest"] = ledger_ingest(files=files, job=job, on_progress=on_ingest_progress)
    report["counts"] = ledger_counts(files=files)
    return report
