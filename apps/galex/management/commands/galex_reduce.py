"""Reduce a raw6 file to photon lists, images, movies and light curves (no database needed)."""

from __future__ import annotations

import argparse

import pandas as pd
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.galex.params import COMPRESSIONS
from apps.galex.science.errors import GalexError
from apps.galex.science.pipeline import frame_starts_from, photometry_only, reduce_eclipse
from apps.galex.science.raw6 import read_raw6_header
from apps.galex.science.results import ReductionResult


def depth_value(text: str) -> float | None:
    """``--depth``: seconds per movie frame, or ``none`` for images only."""
    if text.strip().lower() in ("none", "0", ""):
        return None
    try:
        value = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"depth must be seconds or 'none', not {text!r}") from exc
    if not value > 0:
        raise argparse.ArgumentTypeError(f"depth must be positive (or 'none'), not {text!r}")
    return value


def aperture_list(text: str) -> tuple[float, ...]:
    """``--aperture-sizes 6,12.8,25``: radii in arcsec."""
    try:
        sizes = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"aperture sizes must be numbers separated by commas, not {text!r}") from exc
    if not sizes:
        raise argparse.ArgumentTypeError("give at least one aperture size")
    return sizes


class Command(BaseCommand):
    help = "Run the GALEX photon pipeline (gPhoton 2 conventions) on one raw6 file."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser) -> None:
        parser.add_argument("--raw6", help="gzip FITS raw6 file (not needed with --photometry-only)")
        parser.add_argument(
            "--aspect", help="aspect tables folder, aspect.parquet or -scst file (not needed with --photometry-only)"
        )
        parser.add_argument("--band", default="NUV", choices=["NUV", "FUV"])
        parser.add_argument("--depth", type=depth_value, default=30.0,
                            help="movie frame length in seconds, or 'none' for images only (gPhoton 2 depth=None)")  # fmt: skip
        parser.add_argument("--compression", default="gzip", choices=COMPRESSIONS)
        parser.add_argument("--burst", action="store_true", help="one movie file per frame")
        parser.add_argument("--aperture-sizes", type=aperture_list, default=(12.8,),
                            help="aperture radii in arcsec, e.g. 6,12.8,25 (one photometry file per size)")  # fmt: skip
        parser.add_argument("--positions", help="CSV with ra, dec (deg) and optional id: forced photometry there")
        parser.add_argument("--pixel-convention", default="gaia", choices=["gaia", "gphoton2"],
                            help="gaia: 0-based pixels, exact ra/dec (default); gphoton2: its 1-pixel offset")  # fmt: skip
        parser.add_argument("--coregister", action="store_true",
                            help="start the frames where the other band's light curves in --out start")  # fmt: skip
        parser.add_argument("--photometry-only", action="store_true",
                            help="redo the photometry on the images and movies already in --out")  # fmt: skip
        parser.add_argument("--lightcurve-format", default="csv", choices=["csv", "parquet"])
        parser.add_argument("--threads", type=int, default=1,
                            help="threads for decode/calibrate and image/movie/photometry (products identical)")  # fmt: skip
        parser.add_argument("--out", required=True, help="folder for the products")

    def handle(self, *args, **opts) -> None:
        common = {
            "band": opts["band"], "depth": opts["depth"], "aperture_sizes": opts["aperture_sizes"],
            "positions": _read_positions(opts["positions"]), "pixel_convention": opts["pixel_convention"],
            "lightcurve_format": opts["lightcurve_format"],
        }  # fmt: skip
        try:
            if opts["photometry_only"]:
                result = photometry_only(opts["out"], **common)
            else:
                result = self._reduce(opts, common)
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

    def _reduce(self, opts: dict, common: dict) -> ReductionResult:
        """The whole reduction, with progress lines and, with --coregister, the other band's frame starts."""
        if not opts["raw6"] or not opts["aspect"]:
            raise CommandError("--raw6 and --aspect are needed (unless --photometry-only)")
        last_stage = [None]

        def progress(done: int, total: int, stage: str) -> None:
            if stage != last_stage[0] or done == total:
                self.stdout.write(f"[{stage}] {done}/{total}")
                last_stage[0] = stage

        starts = None
        if opts["coregister"] and opts["depth"]:
            eclipse = read_raw6_header(opts["raw6"]).eclipse
            starts = frame_starts_from(opts["out"], eclipse, opts["band"], opts["depth"])
            if not starts:
                self.stdout.write(self.style.WARNING(
                    "warning: --coregister: no light curves of the other band at this depth in --out"
                ))  # fmt: skip
        return reduce_eclipse(
            opts["raw6"], opts["aspect"], opts["out"], compression=opts["compression"], burst=opts["burst"],
            cal_dir=settings.GALEX_CAL_DIR, on_progress=progress, frame_starts=starts,
            threads=opts["threads"], **common,
        )  # fmt: skip


def _read_positions(path: str | None) -> pd.DataFrame | None:
    """The --positions CSV (ra, dec and optional id), or None without one."""
    if not path:
        return None
    try:
        return pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise CommandError(f"cannot read positions {path}: {exc}") from exc
