"""Catalogue writes: the denormalised score column of TCEs (the ml app calls it), and the dashboard's
stored summary."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from apps.catalog.models import TCE, CatalogSummary, LightCurve, Target


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
