"""Archive services (writes and orchestration); import from here.

``lightcurve_ingest_file`` and ``catalog_import_local_tables`` are the contract the platform's
``load_demo`` command relies on.
"""

from apps.archive.services.downloads import (
    DownloadSpec,
    download_files,
    download_plan,
    download_run,
)
from apps.archive.services.ingest import (
    IngestOutcome,
    lightcurve_ingest_file,
    lightcurves_ingest_files,
    series_path,
)
from apps.archive.services.jobs import (
    download_enqueue,
    ingest_enqueue,
    tables_enqueue,
    targets_fetch_enqueue,
)
from apps.archive.services.ledger import ledger_counts, ledger_ensure, ledger_ingest
from apps.archive.services.tables import (
    TABLES,
    catalog_import_local_tables,
    catalog_import_table,
    catalog_import_tap,
)
from apps.archive.services.tess import tess_sector_scripts_ensure

__all__ = [
    "TABLES",
    "DownloadSpec",
    "IngestOutcome",
    "catalog_import_local_tables",
    "catalog_import_table",
    "catalog_import_tap",
    "download_enqueue",
    "download_files",
    "download_plan",
    "download_run",
    "ingest_enqueue",
    "ledger_counts",
    "ledger_ensure",
    "ledger_ingest",
    "lightcurve_ingest_file",
    "lightcurves_ingest_files",
    "series_path",
    "tables_enqueue",
    "targets_fetch_enqueue",
    "tess_sector_scripts_ensure",
]
