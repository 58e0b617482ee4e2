"""The archive's part of load_demo: the catalogue tables, then every demo light curve (ingest)."""

from __future__ import annotations

from pathlib import Path

from apps.archive.services import catalog_import_local_tables, lightcurve_ingest_file
from apps.catalog.demo import demo_fits_files
from apps.core.demo import analyze_tables
from apps.jobs.runner import JobContext


def load_tables(demo_dir: Path, ctx: JobContext) -> dict:
    report = catalog_import_local_tables(
        demo_dir=demo_dir, job=ctx.job, on_progress=lambda done, total: ctx.progress(done, total, unit="rows")
    )
    analyze_tables("catalog_target", "catalog_tce")
    return report


def load_lightcurves(demo_dir: Path, ctx: JobContext) -> dict:
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
