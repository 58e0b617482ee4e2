"""The catalogue's part of load_demo: tables, light curves, then names."""

from __future__ import annotations

from pathlib import Path

from django.db import connection

from apps.catalog.demo import demo_fits_files, demo_names_apply
from apps.core.demo import register_demo_step
from apps.jobs.runner import JobContext


def analyze_tables(*tables: str) -> None:
    """Refresh the planner's statistics after a bulk load (all tables when none named).

    Without them PostgreSQL plans joins over the freshly loaded tens of thousands of rows as if
    the tables were empty (nested loops over sequential scans): minutes instead of milliseconds.
    """
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(connection.ops.quote_name(t) for t in tables) if tables else "ANALYZE")


def load_tables(demo_dir: Path, ctx: JobContext) -> dict:
    from apps.archive.services import catalog_import_local_tables

    report = catalog_import_local_tables(
        demo_dir=demo_dir, job=ctx.job, on_progress=lambda done, total: ctx.progress(done, total, unit="rows")
    )
    analyze_tables("catalog_target", "catalog_tce")
    return report


def refresh_statistics(demo_dir: Path, ctx: JobContext) -> dict:
    analyze_tables()
    return {"analyzed": True}


def load_lightcurves(demo_dir: Path, ctx: JobContext) -> dict:
    from apps.archive.services import lightcurve_ingest_file

    files = demo_fits_files(demo_dir)
    ingested, failed = 0, {}
    for index, path in enumerate(files, start=1):
        try:
            lightcurve_ingest_file(path=path, job=ctx.job)
            ingested += 1
        except Exception as exc:  # noqa: BLE001 - one bad file must not stop the demo; it is reported
            failed[path.name] = f"{type(exc).__name__}: {exc}"
        ctx.progress(index, len(files), unit="files")
    return {"files": len(files), "ingested": ingested, "failed": failed}


def load_names(demo_dir: Path, ctx: JobContext) -> dict:
    return {"named_targets": demo_names_apply()}


register_demo_step("catalogue tables", load_tables, order=10)
register_demo_step("light curves", load_lightcurves, order=20)
register_demo_step("target names", load_names, order=30)
register_demo_step("planner statistics", refresh_statistics, order=35)
register_demo_step("planner statistics after scoring", refresh_statistics, order=65)
