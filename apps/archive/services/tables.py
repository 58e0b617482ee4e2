"""Catalogue import: DR24/DR25 TCEs, KOI names, Kepler stellar properties and TESS TOIs.

Tables come from local exports or the Exoplanet Archive TAP service and go through the same
normalisation (``apps.archive.science.catalogs``) and the same bulk upserts: targets by
(mission, identifier), TCEs by (source, release, target, planet number). Running an import again
updates rows in place and never duplicates them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from django.db import transaction
from django.utils import timezone

from apps.archive.clients import fetch_policy, tap_url, verify_csv_answer
from apps.archive.errors import ArchiveUnavailable
from apps.archive.fetch import FetchRequest, fetch_files
from apps.archive.science import catalogs
from apps.archive.science.errors import ArchiveDataError
from apps.catalog.models import Disposition, Mission, TCESource
from apps.catalog.services import targets_upsert, tces_upsert
from apps.core.errors import InvalidInput
from apps.core.files import data_root
from apps.jobs.models import Job

_VALID_DISPOSITIONS = set(Disposition.values)


@dataclass(frozen=True)
class TableDef:
    """How one catalogue maps onto our models."""

    mission: str
    source: str | None
    release: str
    tap_table: str
    stellar_source: str | None
    normalize: Callable[..., catalogs.CatalogRows]


TABLES: dict[str, TableDef] = {
    "dr24_tce": TableDef(Mission.KEPLER, TCESource.KEPLER_DR24, "DR24", "q1_q17_dr24_tce", None, catalogs.normalize_dr24_tce),
    "dr25_tce": TableDef(
        Mission.KEPLER, TCESource.KEPLER_DR25, "DR25", "q1_q17_dr25_tce", "Kepler DR25 (TCE table)", catalogs.normalize_dr25_tce
    ),
    "koi": TableDef(Mission.KEPLER, TCESource.KEPLER_KOI, "cumulative", "cumulative", None, catalogs.normalize_koi),
    "stellar": TableDef(
        Mission.KEPLER, None, "DR25", "q1_q17_dr25_stellar", "Kepler DR25 stellar", catalogs.normalize_stellar
    ),
    "toi": TableDef(Mission.TESS, TCESource.TESS_TOI, "TOI", "toi", "TESS TOI table", catalogs.normalize_toi),
}  # fmt: skip
"""Table name (as used by commands and the API) -> definition."""


def _as_frame(path_or_rows: Path | str | pd.DataFrame | list[dict]) -> pd.DataFrame:
    if isinstance(path_or_rows, pd.DataFrame):
        return path_or_rows
    if isinstance(path_or_rows, list):
        return pd.DataFrame(path_or_rows)
    path = Path(path_or_rows)
    if not path.is_file():
        raise InvalidInput(f"catalogue file {path} does not exist")
    return catalogs.read_table(path)


def _target_rows(frame: pd.DataFrame) -> list[dict]:
    clean = frame.astype(object).where(frame.notna(), None)
    return clean.to_dict("records")


def _tce_rows(
    definition: TableDef, tces: pd.DataFrame, target_ids: dict[str, int], release: str
) -> list[list]:
    """One row of values per TCE, in the order of ``apps.catalog.services.TCE_UPSERT_FIELDS``."""
    epoch_system = "BTJD" if definition.mission == Mission.TESS else "BKJD"
    now = timezone.now()
    rows: list[list] = []
    clean = tces.astype(object).where(tces.notna(), None)
    for row in clean.itertuples(index=False):
        disposition = row.disposition if row.disposition in _VALID_DISPOSITIONS else Disposition.UNK
        extra = dict(row.extra)
        if disposition != row.disposition:
            extra["catalog_disposition"] = row.disposition
        rows.append(
            [
                target_ids[str(row.identifier)], definition.mission, int(row.tce_number), float(row.period_days),
                float(row.epoch), epoch_system, float(row.duration_hours), row.depth_ppm, row.snr, row.mes,
                definition.source, release, disposition, extra, now, now,
            ]
        )  # fmt: skip
    return rows


def catalog_import_table(
    *,
    name: str,
    path_or_rows: Path | str | pd.DataFrame | list[dict],
    release: str | None = None,
    robovetter: Path | str | None = None,
    job: Job | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Upsert one catalogue table into Target (and TCE for event tables).

    Parameters
    ----------
    name : str
        One of :data:`TABLES`: ``dr24_tce``, ``dr25_tce``, ``koi``, ``stellar``, ``toi``.
    path_or_rows : Path, DataFrame or list of dict
        A CSV export (``#`` comment lines allowed) or the rows themselves, with the Archive's
        column names (DR25 also accepts the ExoMiner fold table, keyed by ``target_id``).
    release : str, optional
        Overrides the release recorded on TCEs (default: DR24, DR25, cumulative, TOI).
    robovetter : Path, optional
        DR25 only: the robovetter output whose PC/FP dispositions are applied to the TCEs.
    job : Job, optional
        Unused except for symmetry with other services (progress goes through ``on_progress``).
    on_progress : callable, optional
        ``on_progress(rows_done, rows_total)``.

    Returns
    -------
    dict
        ``table``, ``rows``, ``targets_created``, ``targets_updated``, ``tces_created``,
        ``tces_updated``, ``rejected`` (reasons with counts) and ``seconds``.

    Raises
    ------
    InvalidInput
        Unknown table name, missing file, or a table without the expected columns.
    """
    started = time.monotonic()
    definition = TABLES.get(name)
    if definition is None:
        raise InvalidInput(f"unknown catalogue table {name!r}; known: {', '.join(TABLES)}")
    try:
        frame = _as_frame(path_or_rows)
        extra_args = (
            {"robovetter": catalogs.read_robovetter(Path(robovetter))} if robovetter else {}
        )
        rows = definition.normalize(frame, **extra_args)
    except ArchiveDataError as exc:
        raise InvalidInput(str(exc)) from exc
    release = release or definition.release
    report = {"table": name, "release": release, "rows": int(len(frame)), "rejected": rows.rejected}
    with transaction.atomic():
        target_ids, counts = targets_upsert(
            mission=definition.mission,
            rows=_target_rows(rows.targets),
            stellar_source=definition.stellar_source,
        )
        report.update(targets_created=counts["created"], targets_updated=counts["updated"])
        if rows.tces is not None and definition.source:
            report.update(_upsert_tces(definition, rows.tces, target_ids, release, on_progress))
    report["seconds"] = round(time.monotonic() - started, 3)
    return report


def _upsert_tces(
    definition: TableDef, tces: pd.DataFrame, target_ids: dict[str, int], release: str, on_progress
) -> dict:
    duplicated = tces.duplicated(["identifier", "tce_number"], keep="last")
    rejected = (
        [
            f"{int(duplicated.sum())} duplicate row(s) (same star and planet number): the last one kept"
        ]
        if duplicated.any()
        else []
    )
    rows = _tce_rows(definition, tces[~duplicated], target_ids, release)
    created = tces_upsert(rows=rows, on_progress=on_progress)
    return {"tces_created": created, "tces_updated": len(rows) - created, "duplicates": rejected}


def _one(folder: Path, pattern: str) -> Path | None:
    found = sorted(folder.glob(pattern))
    return found[0] if found else None


def catalog_import_local_tables(
    *,
    demo_dir: Path,
    job: Job | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    names: Sequence[str] | None = None,
) -> dict:
    """Import the catalogue exports of the demo folder: DR24 TCEs, DR25 TCEs (+robovetter), KOI names.

    Looks in ``demo_dir/catalogs`` for ``q1_q17_dr24_tce*.csv``, ``q1_q17_dr25_tce*.csv`` (the
    ExoMiner fold table with DR25 depths, SNR, MES and stellar parameters),
    ``kplr_dr25_obs_robovetter_output.txt`` and ``q1_q17_dr25_koi.csv``; tables that are absent are
    skipped and listed under ``skipped``. ``on_progress(done, total)`` counts tables; ``names``
    limits the import to some of ``dr24_tce``, ``dr25_tce`` and ``koi``.
    """
    folder = Path(demo_dir) / "catalogs"
    if not folder.is_dir():
        raise InvalidInput(f"{folder} does not exist")
    plan = [
        ("dr24_tce", _one(folder, "q1_q17_dr24_tce*.csv"), {}),
        ("dr25_tce", _one(folder, "q1_q17_dr25_tce*.csv"), {"robovetter": _one(folder, "kplr_dr25_obs_robovetter_output*.txt")}),
        ("koi", _one(folder, "q1_q17_dr25_koi*.csv"), {}),
    ]  # fmt: skip
    if names is not None:
        plan = [step for step in plan if step[0] in names]
    report: dict = {"tables": {}, "skipped": []}
    started = time.monotonic()
    for done, (name, path, extra) in enumerate(plan, start=1):
        if path is None:
            report["skipped"].append(name)
        else:
            report["tables"][name] = catalog_import_table(
                name=name, path_or_rows=path, job=job, **extra
            )
            report["tables"][name]["file"] = path.name
        if on_progress:
            on_progress(done, len(plan))
    report["seconds"] = round(time.monotonic() - started, 3)
    return report


def catalog_import_tap(
    *,
    names: list[str],
    job: Job | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    limit: int | None = None,
) -> dict:
    """Download tables from the Exoplanet Archive TAP service and import them.

    Each answer is kept under ``DATA_ROOT/archive/tables/`` (dated) for provenance. ``limit``
    (``select top N``) is for trials and tests.
    """
    unknown = [n for n in names if n not in TABLES]
    if unknown:
        raise InvalidInput(
            f"unknown catalogue table(s) {', '.join(unknown)}; known: {', '.join(TABLES)}"
        )
    report: dict = {"tables": {}, "source": "tap"}
    for done, name in enumerate(names, start=1):
        path = _tap_download(TABLES[name].tap_table, limit=limit)
        report["tables"][name] = catalog_import_table(name=name, path_or_rows=path, job=job)
        report["tables"][name]["file"] = path.name
        if on_progress:
            on_progress(done, len(names))
    return report


def _tap_download(table: str, *, limit: int | None) -> Path:
    top = f"top {int(limit)} " if limit else ""
    stamp = timezone.now().strftime("%Y%m%dT%H%M%S%f")
    dest = data_root() / "archive" / "tables" / f"{table}-{stamp}.csv"
    request = FetchRequest(
        key=0, url=tap_url(f"select {top}* from {table}"), dest=dest, verify=verify_csv_answer
    )
    events = list(fetch_files([request], fetch_policy(concurrency=1)))
    final = events[-1]
    if final.kind != "done":
        raise ArchiveUnavailable(f"TAP query for {table} failed: {final.error or final.kind}")
    return dest
