"""Write the labels snapshot: DIR/labels.parquet and DIR/manifest.json (byte-identical for the same labels).

    python manage.py export_labels --out var/labels
    python manage.py export_labels --out var/labels --include-source dr24
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.core.errors import GaiaError
from apps.vetting.models import CatalogLabelSource
from apps.vetting.services import labels_export


class Command(BaseCommand):
    help = "Export people's final labels (adjudicated, else agreed) as a Parquet snapshot with a manifest."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--out", required=True, type=Path, help="output folder")
        parser.add_argument(
            "--include-source", action="append", default=[], choices=CatalogLabelSource.values,
            help="also export this catalogue's labels as rows of their own (repeatable)",
        )

    def handle(self, *args, **options) -> None:
        try:
            manifest = labels_export(out_dir=options["out"], include_sources=options["include_source"])
        except GaiaError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"snapshot {manifest['snapshot_id']}: {manifest['rows']} rows ({manifest['tces']} TCEs) "
            f"-> {options['out'] / 'labels.parquet'}; counts {manifest['counts']}"
        )
