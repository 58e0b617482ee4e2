"""Import a catalogue's dispositions as a named label source (never mixed with people's labels).

    python manage.py import_catalog_labels --source dr24          # demo folder's DR24 TCE table
    python manage.py import_catalog_labels --source dr25          # DR25 robovetter output
    python manage.py import_catalog_labels --source toi --file toi.csv
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.core.errors import GaiaError
from apps.vetting.models import CatalogLabelSource
from apps.vetting.services import catalog_labels_import


class Command(BaseCommand):
    help = "Import DR24 av_training_set, DR25 robovetter or TOI dispositions as catalogue labels."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--source", required=True, choices=CatalogLabelSource.values)
        parser.add_argument("--file", type=Path, help="the table (default: GAIA_DEMO_DATA/catalogs/...)")

    def handle(self, *args, **options) -> None:
        try:
            report = catalog_labels_import(source=options["source"], path=options["file"])
        except GaiaError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(json.dumps(report, sort_keys=True))
