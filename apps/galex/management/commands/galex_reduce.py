"""Reduce a raw6 file to photon lists, images, movies and light curves (no database needed)."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.galex.science.errors import GalexError
from apps.galex.science.pipeline import reduce_eclipse


class Command(BaseCommand):
    help = "Run the GALEX photon pipeline (gPhoton 2 conventions) on one raw6 file."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser) -> None:
        parser.add_argument("--raw6", required=True, help="gzip FITS raw6 file")
        parser.add_argument(
            "--aspect", required=True, help="folder with aspect/boresight/metadata .parquet"
        )
        parser.add_argument("--band", default="NUV", choices=["NUV", "FUV"])
        parser.add_argument("--depth", type=int, default=30, help="movie frame length in seconds")
        parser.add_argument("--compression", default="gzip", choices=["gzip", "rice", "none"])
        parser.add_argument("--burst", action="store_true", help="one movie file per frame")
        parser.add_argument("--out", required=True, help="folder for the products")

    def handle(self, *args, **opts) -> None:
        last_stage = [None]

        def progress(done: int, total: int, stage: str) -> None:
            if stage != last_stage[0] or done == total:
                self.stdout.write(f"[{stage}] {done}/{total}")
                last_stage[0] = stage

        try:
            result = reduce_eclipse(
                opts["raw6"], opts["aspect"], opts["out"], band=opts["band"], depth=opts["depth"],
                compression=opts["compression"], burst=opts["burst"], cal_dir=settings.GALEX_CAL_DIR,
                on_progress=progress,
            )  # fmt: skip
        except GalexError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"eclipse {result.eclipse} {result.band}: {result.n_kept} of {result.n_events} events kept"
        )
        for kind, paths in result.product_paths().items():
            for path in paths:
                self.stdout.write(f"{kind}: {path}")
        for warning in result.warnings:
            self.stdout.write(self.style.WARNING(f"warning: {warning}"))
