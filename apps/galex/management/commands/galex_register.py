"""Register a real GALEX eclipse: a raw6 file and its aspect, stored as versioned artifacts."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.core.errors import GaiaError
from apps.galex.intake import eclipse_register


class Command(BaseCommand):
    help = (
        "Register a GALEX raw6 file and its aspect (gPhoton 2 aspect tables or a MAST -scst file) "
        "as an eclipse; the files are stored as versioned artifacts."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--raw6", required=True, help="raw6 file (gzip FITS), e.g. e23456-nd-raw6.fits.gz")
        parser.add_argument(
            "--aspect",
            required=True,
            help="folder of gPhoton 2 aspect tables (aspect/boresight/metadata.parquet), an aspect.parquet, "
            "or the eclipse's -scst.fits(.gz)",
        )
        parser.add_argument(
            "--eclipse", type=int, default=None, help="expected eclipse number (checked against the raw6 header)"
        )
        parser.add_argument("--label", default="", help="a name shown on the eclipse pages")

    def handle(self, *args, **opts) -> None:
        try:
            eclipse = eclipse_register(raw6_path=Path(opts["raw6"]), aspect_path=Path(opts["aspect"]),
                                       eclipse_number=opts["eclipse"], label=opts["label"])  # fmt: skip
        except GaiaError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"eclipse {eclipse.pk}: e{eclipse.number:05d} {eclipse.band}, "
            f"{eclipse.summary.get('n_events', 0)} events, {eclipse.legs} leg(s) -> /galex/{eclipse.pk}/"
        )
