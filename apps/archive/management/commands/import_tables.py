"""``manage.py import_tables``: upsert catalogue tables into Target/TCE (idempotent).

Examples::

    manage.py import_tables                           # DR24, DR25 (+robovetter), KOI from the demo folder
    manage.py import_tables --tap dr24_tce koi toi    # from the Exoplanet Archive TAP service
    manage.py import_tables dr25_tce --file tce.csv --robovetter kplr_dr25_obs_robovetter_output.txt
    manage.py import_tables --tap dr24_tce --enqueue  # as a background job
"""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from apps.archive.services import (
    TABLES,
    catalog_import_local_tables,
    catalog_import_table,
    catalog_import_tap,
    tables_enqueue,
)
from apps.core.errors import GaiaError


class Command(BaseCommand):
    help = "Import catalogue tables (DR24/DR25 TCEs, KOI, stellar, TOI) from local exports or TAP."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "names", nargs="*", help=f"tables for --tap or --file: {', '.join(TABLES)}"
        )
        parser.add_argument(
            "--tap", action="store_true", help="download from the Exoplanet Archive TAP service"
        )
        parser.add_argument("--file", type=Path, help="import one table from this CSV file")
        parser.add_argument(
            "--robovetter", type=Path, help="with dr25_tce --file: robovetter dispositions"
        )
        parser.add_argument(
            "--demo-dir",
            type=Path,
            help="folder with catalogs/ (default GAIA_DEMO_DATA, which queued jobs always use)",
        )
        parser.add_argument("--limit", type=int, help="with --tap: rows per table (select top N)")
        parser.add_argument("--enqueue", action="store_true", help="queue a job instead")

    def handle(self, *args: object, **options: object) -> None:
        names: list[str] = list(options["names"])
        try:
            report = self._run(names, options)
        except GaiaError as exc:
            raise CommandError(exc.message) from exc
        if report is not None:
            self.stdout.write(json.dumps(report, indent=2, default=str))

    def _run(self, names: list[str], options: dict) -> dict | None:
        if options["file"]:
            if len(names) != 1:
                raise CommandError(
                    "--file imports exactly one table: name it, e.g. import_tables dr24_tce --file x.csv"
                )
            return catalog_import_table(
                name=names[0], path_or_rows=options["file"], robovetter=options["robovetter"]
            )
        if options["enqueue"]:
            if options["demo_dir"]:
                raise CommandError(
                    "a queued import reads GAIA_DEMO_DATA on the worker: set that instead of --demo-dir"
                )
            job = tables_enqueue(
                names=names or list(TABLES),
                source="tap" if options["tap"] else "local",
                limit=options["limit"],
            )
            self.stdout.write(f"queued job {job.pk} ({job.kind})")
            return None
        with tqdm(desc="tables", unit="table", file=self.stderr._out, disable=None) as bar:

            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            if options["tap"]:
                return catalog_import_tap(
                    names=names or ["dr24_tce", "dr25_tce", "koi"],
                    on_progress=progress,
                    limit=options["limit"],
                )
            demo_dir = options["demo_dir"] or Path(settings.GAIA_DEMO_DATA)
            return catalog_import_local_tables(demo_dir=demo_dir, on_progress=progress)
