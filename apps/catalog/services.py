"""Catalogue writes: every create, update and delete of Target, TCE and LightCurve rows (other apps
call these instead of the models' managers), the denormalised score column of TCEs (the ml app calls
it), and the dashboard's stored summary."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from apps.catalog.models import TCE, CatalogSummary, LightCurve, Target
from apps.core.bulk import copy_upsert
from apps.core.files import data_root

#: Stellar parameters a catalogue row or a light-curve header may give a target.
STELLAR_FIELDS = ("ra", "dec", "magnitude", "teff", "logg", "metallicity", "radius", "mass")
_TARGET_UPDATE_FIELDS = [*STELLAR_FIELDS, "name", "aliases", "search_names", "stellar_source", "updated_at"]
_TARGET_FIELDS = ["mission", "identifier", *_TARGET_UPDATE_FIELDS, "created_at"]
_CHUNK = 5000


def _number(value: object) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _in_range(field: str, value: float) -> bool:
    if field == "ra":
        return 0.0 <= value < 360.0
    if field == "dec":
        return -90.0 <= value <= 90.0
    return True


def _merge(target: Target, row: dict, *, stellar_source: str | None, fill_only: bool) -> bool:
    """Apply one row to a target; True when something changed."""
    changed = False
    filled = False
    for field in STELLAR_FIELDS:
        value = _number(row.get(field))
        if value is None or not _in_range(field, value):
            continue
        current = getattr(target, field)
        if current is None or (not fill_only and current != value):
            setattr(target, field, value)
            changed = filled = True
    if filled and stellar_source and (not fill_only or not target.stellar_source):
        target.stellar_source = stellar_source[:64]
    name = row.get("name")
    if isinstance(name, str) and name and not target.name:
        target.name, changed = name[:64], True
    new_aliases = [a[:64] for a in row.get("aliases") or [] if a and a not in target.aliases]
    if new_aliases:
        target.aliases = [*target.aliases, *new_aliases]
        changed = True
    return changed


def _existing(mission: str, identifiers: Sequence[str]) -> dict[str, Target]:
    found: dict[str, Target] = {}
    for start in range(0, len(identifiers), _CHUNK):
        chunk = identifiers[start : start + _CHUNK]
        for target in Target.objects.filter(mission=mission, identifier__in=chunk):
            found[target.identifier] = target
    return found


def targets_upsert(
    *,
    mission: str,
    rows: Iterable[dict],
    stellar_source: str | None = None,
    fill_only: bool = False,
) -> tuple[dict[str, int], dict[str, int]]:
    """Create missing targets and apply names, aliases and stellar parameters to all of them.

    Parameters
    ----------
    mission : str
        Mission of every row.
    rows : iterable of dict
        ``identifier`` (number) plus any of the stellar fields (NaN/None = unknown), ``name``
        and ``aliases``. Later rows for the same identifier are merged into earlier ones.
    stellar_source : str, optional
        Recorded on targets whose stellar parameters this call sets.
    fill_only : bool
        Only fill parameters a target does not have yet (light-curve headers); catalogue imports
        overwrite (the catalogue is the better source).

    Returns
    -------
    ids : dict
        identifier (str) -> Target primary key, for every row.
    counts : dict
        ``created`` and ``updated`` target counts.
    """
    by_id: dict[str, dict] = {}
    for row in rows:
        key = str(int(row["identifier"]))
        by_id.setdefault(key, {}).update({k: v for k, v in row.items() if v is not None})
    existing = _existing(mission, list(by_id))
    to_save: list[Target] = []
    for key, row in by_id.items():
        target = existing.get(key)
        if target is None:
            target = Target(mission=mission, identifier=key, aliases=[])
            _merge(target, row, stellar_source=stellar_source, fill_only=fill_only)
        elif not _merge(target, row, stellar_source=stellar_source, fill_only=fill_only):
            continue
        target.refresh_search_names()
        to_save.append(target)
    now = timezone.now()
    result = copy_upsert(
        model=Target,
        fields=_TARGET_FIELDS,
        rows=([getattr(t, name) for name in _TARGET_FIELDS[:-2]] + [now, now] for t in to_save),
        conflict=["mission", "identifier"],
        update=_TARGET_UPDATE_FIELDS,
        returning=["id", "identifier"],
    )
    ids = {key: target.pk for key, target in existing.items()}
    ids.update({identifier: pk for pk, identifier, _inserted in result})
    created = sum(1 for *_rest, inserted in result if inserted)
    return ids, {"created": created, "updated": len(result) - created}


def target_names_add(*, mission: str, identifier: str, name: str, aliases: Sequence[str]) -> bool:
    """Give a target a common name (unless it is the catalogue id itself) and more aliases.

    Returns False when there is no such target (nothing is created).
    """
    target = Target.objects.filter(mission=mission, identifier=identifier).first()
    if target is None:
        return False
    target.name = name if name != target.display_id else target.name
    target.aliases = sorted(set(target.aliases) | set(aliases))
    target.refresh_search_names()
    target.save(update_fields=["name", "aliases", "search_names", "updated_at"])
    return True


#: Fields of a catalogue TCE row given to :func:`tces_upsert`, in this order.
TCE_UPSERT_FIELDS = [
    "target", "mission", "tce_number", "period_days", "epoch", "epoch_system", "duration_hours", "depth_ppm",
    "snr", "mes", "source", "release", "disposition", "extra", "created_at", "updated_at",
]  # fmt: skip
_TCE_UPDATE_FIELDS = [
    "mission", "period_days", "epoch", "epoch_system", "duration_hours", "depth_ppm", "snr", "mes",
    "disposition", "extra", "updated_at",
]  # fmt: skip
_TCE_BATCH = 10000


def tces_upsert(*, rows: Sequence[Sequence], on_progress: Callable[[int, int], None] | None = None) -> int:
    """Insert or update catalogue TCEs by (source, release, target, planet number); returns rows created.

    ``rows`` hold the values of :data:`TCE_UPSERT_FIELDS` (the target as its id), no two with the
    same key. They go in batches of 10,000, each one COPY upsert; ``on_progress(done, total)``
    after each.
    """
    created = 0
    for start in range(0, len(rows), _TCE_BATCH):
        result = copy_upsert(
            model=TCE,
            fields=TCE_UPSERT_FIELDS,
            rows=rows[start : start + _TCE_BATCH],
            conflict=["source", "release", "target", "tce_number"],
            update=_TCE_UPDATE_FIELDS,
        )
        created += sum(1 for _pk, inserted in result if inserted)
        if on_progress:
            on_progress(min(start + _TCE_BATCH, len(rows)), len(rows))
    return created


def tces_record(*, target: Target, source: str, release: str, signals: Sequence[dict]) -> list[TCE]:
    """Save found signals as the target's TCEs of ``source``/``release``, numbered 1, 2, ...

    Each dict gives the TCE's fields other than its key (period, epoch, disposition, ...). A TCE of
    the same key is updated, so recording a release again (a redelivered job) adds no rows.
    """
    found = []
    with transaction.atomic():
        for number, fields in enumerate(signals, start=1):
            tce, _ = TCE.objects.update_or_create(
                source=source, release=release, target=target, tce_number=number, defaults=fields
            )
            found.append(tce)
    return found


_LIGHTCURVE_UPDATE_FIELDS = [
    "target", "quarter_or_sector", "cadence", "n_points", "time_start", "time_end", "time_system",
    "parquet_path", "source_sha256", "provenance", "updated_at",
]  # fmt: skip


def lightcurves_upsert(*, rows: Sequence[LightCurve]) -> dict[str, str]:
    """Insert or update light curves by (mission, source file name); the rows get their ids.

    Returns the series path each updated row had before (source file name -> ``parquet_path``), so
    the caller can remove a series the new row no longer points at once the transaction commits.
    """
    old_paths = dict(
        LightCurve.objects.filter(source_filename__in=[r.source_filename for r in rows]).values_list(
            "source_filename", "parquet_path"
        )
    )
    LightCurve.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["mission", "source_filename"],
        update_fields=_LIGHTCURVE_UPDATE_FIELDS,
    )
    return old_paths


def lightcurves_delete(*, source_filenames: Sequence[str]) -> int:
    """Delete the light curves ingested from these files, and their series files; returns rows deleted."""
    curves = LightCurve.objects.filter(source_filename__in=list(source_filenames))
    for curve in curves:
        (data_root() / curve.parquet_path).unlink(missing_ok=True)
    _total, by_model = curves.delete()
    return by_model.get(LightCurve._meta.label, 0)


def tce_scores_set(*, tce_ids: Sequence[int], scores: Sequence[float | None], replace_all: bool = False) -> int:
    """Write ``TCE.score`` (the default triage model's newest probability) for these TCEs.

    ``replace_all``: the given TCEs are every scored one (a new default model), so every other TCE's
    score becomes NULL. Rows whose value does not change are not rewritten. Returns rows written.
    """
    table = TCE._meta.db_table
    ids, values = [int(i) for i in tce_ids], [None if s is None else float(s) for s in scores]
    with connection.cursor() as cursor:
        if replace_all:
            cursor.execute(
                f"""UPDATE {table} t SET score = v.s
                    FROM (SELECT x.id, u.s FROM {table} x LEFT JOIN unnest(%s::bigint[], %s::float8[]) AS u(id, s)
                          ON u.id = x.id WHERE x.score IS DISTINCT FROM u.s) v
                    WHERE t.id = v.id""",
                [ids, values],
            )
        else:
            cursor.execute(
                f"""UPDATE {table} t SET score = u.s FROM unnest(%s::bigint[], %s::float8[]) AS u(id, s)
                    WHERE t.id = u.id AND t.score IS DISTINCT FROM u.s""",
                [ids, values],
            )
        return cursor.rowcount


#: Bins of the dashboard's log-spaced period and duration histograms.
HISTOGRAM_BINS = 40
#: pg_try_advisory_xact_lock key of the summary's recomputation ("csum").
SUMMARY_LOCK = 0x6373756D
SUMMARY_NAME = "dashboard"


def _marks() -> dict[str, int]:
    """Highest ids of targets, TCEs and light curves: three primary-key lookups."""
    tables = {"targets": Target, "tces": TCE, "lightcurves": LightCurve}
    sql = ", ".join(f"(SELECT max(id) FROM {model._meta.db_table})" for model in tables.values())
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + sql)
        return {name: value or 0 for name, value in zip(tables, cursor.fetchone(), strict=True)}


def _log_histogram(cursor, column: str) -> dict:  # noqa: ANN001
    """Log-spaced histogram of a positive TCE column, counted by the database: {"edges", "counts"}."""
    table = TCE._meta.db_table
    cursor.execute(f"SELECT ln(min({column})), ln(max({column})) FROM {table} WHERE {column} > 0")
    low, high = cursor.fetchone()
    if low is None:
        return {"edges": [], "counts": []}
    high += 1e-9
    cursor.execute(
        f"""SELECT least(width_bucket(ln({column}), %s, %s, %s), %s) AS bin, count(*) FROM {table}
            WHERE {column} > 0 GROUP BY 1""",
        [low, high, HISTOGRAM_BINS, HISTOGRAM_BINS],
    )
    counts = [0] * HISTOGRAM_BINS
    for index, n in cursor.fetchall():
        counts[index - 1] = n
    return {"edges": np.exp(np.linspace(low, high, HISTOGRAM_BINS + 1)).tolist(), "counts": counts}


def _summary_compute() -> dict:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT " + ", ".join(f"(SELECT count(*) FROM {m._meta.db_table})" for m in (Target, TCE, LightCurve))
        )
        targets, tces, lightcurves = cursor.fetchone()
        breakdown = [
            {"source": source, "disposition": disposition, "n": n}
            for source, disposition, n in TCE.objects.values_list("source", "disposition")
            .annotate(n=Count("id")).order_by("source", "disposition")
        ]
        return {
            "counts": {"targets": targets, "tces": tces, "lightcurves": lightcurves},
            "breakdown": breakdown,
            "periods": _log_histogram(cursor, "period_days"),
            "durations": _log_histogram(cursor, "duration_hours"),
        }


def catalog_summary(*, refresh: bool = False) -> CatalogSummary:
    """The dashboard's counts, disposition breakdown and period/duration histograms (``.data``).

    Read from the stored copy while it is current: younger than GAIA_SUMMARY_MAX_AGE_SECONDS, and no
    target, TCE or light curve added since (then it is recomputed once it is older than
    GAIA_SUMMARY_MIN_AGE_SECONDS, so a job adding rows refreshes it). One request recomputes at a time
    (advisory lock); the others serve the stored copy meanwhile. ``refresh`` recomputes now.
    """
    stored = CatalogSummary.objects.filter(name=SUMMARY_NAME).first()
    now = timezone.now()
    if stored is not None and not refresh:
        age = (now - stored.computed_at).total_seconds()
        fresh = age < settings.GAIA_SUMMARY_MAX_AGE_SECONDS
        if fresh and (age < settings.GAIA_SUMMARY_MIN_AGE_SECONDS or _marks() == stored.marks):
            return stored
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [SUMMARY_LOCK])
            locked = cursor.fetchone()[0]
        if not locked and stored is not None:
            return stored  # someone is recomputing it right now
        marks = _marks()
        data = _summary_compute()
        summary, _ = CatalogSummary.objects.update_or_create(
            name=SUMMARY_NAME, defaults={"data": data, "marks": marks, "computed_at": now}
        )
    return summary
