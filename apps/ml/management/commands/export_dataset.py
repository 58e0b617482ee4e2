"""Export the stored views, scalar features and labels as a training set.

    python manage.py export_dataset --out var/dataset --catalog dr24
    python manage.py export_dataset --out var/dataset --preset astronet --labels var/labels

writes TFRecord shards in AstroNet's feature layout (``train-00000-of-00001`` ...), one Parquet file
per split and ``manifest.json`` (counts, label source, views versions, sha256 per file), split
train/val/test by star with a fixed seed; the same inputs give the same bytes.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from apps.core.errors import GaiaError
from apps.lightcurves.selectors import VIEW_PRESETS
from apps.ml.exports import CATALOGS, dataset_export


class Command(BaseCommand):
    help = "Write labelled views as TFRecord (AstroNet layout) + Parquet, split by star, with a manifest."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--out", required=True, metavar="DIR")
        parser.add_argument("--preset", choices=VIEW_PRESETS, default="yu2019", help="the light-curve views written")
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--labels", metavar="SNAPSHOT_DIR", help="a labels snapshot (manage.py export_labels)")
        source.add_argument("--catalog", choices=sorted(CATALOGS), help="a catalogue's labels")
        parser.add_argument("--seed", type=int, default=123, help="seeds the split by star")
        parser.add_argument("--shard-size", type=int, default=1000, help="examples per TFRecord shard")

    def handle(self, *args, **opts) -> None:
        if opts["shard_size"] < 1:
            raise CommandError("--shard-size must be at least 1")
        try:
            manifest = dataset_export(
                out_dir=opts["out"], preset=opts["preset"], labels_dir=opts["labels"], catalog=opts["catalog"],
                seed=opts["seed"], shard_size=opts["shard_size"],
            )
        except GaiaError as exc:
            raise CommandError(exc.message) from exc
        counts = ", ".join(f"{split} {part['examples']}" for split, part in manifest["splits"].items())
        self.stdout.write(
            f"wrote {manifest['examples']} TCEs ({counts}; {len(manifest['skipped'])} skipped) "
            f"from {manifest['label_source']} to {opts['out']}"
        )
