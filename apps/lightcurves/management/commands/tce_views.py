"""manage.py tce_views: views and diagnostics of one TCE from light-curve FITS files (no database)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from django.core.management.base import BaseCommand, CommandError

from apps.lightcurves.science.errors import LightCurveError
from apps.lightcurves.science.io import read_fits
from apps.lightcurves.science.pipeline import tce_views
from apps.lightcurves.science.views import PRESETS


class Command(BaseCommand):
    help = (
        "Build global/local/odd/even/secondary/centroid views and diagnostics of one TCE and "
        "write them to an .npz file. The epoch is in the files' own time system (BKJD for "
        "Kepler, BTJD for TESS)."
    )
    requires_system_checks: list = []

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--fits",
            nargs="+",
            required=True,
            type=Path,
            help="light-curve FITS files of one target",
        )
        parser.add_argument("--period", required=True, type=float, help="period, days")
        parser.add_argument(
            "--epoch", required=True, type=float, help="mid-transit time, BKJD/BTJD"
        )
        parser.add_argument(
            "--duration-hours", required=True, type=float, help="transit duration, hours"
        )
        parser.add_argument("--preset", default="gaia", choices=sorted(PRESETS), help="view preset")
        parser.add_argument("--out", required=True, type=Path, help="output .npz path")

    def handle(self, *args, **opts) -> None:
        try:
            curves = [read_fits(path) for path in opts["fits"]]
            result = tce_views(
                curves, opts["period"], opts["epoch"], opts["duration_hours"], preset=opts["preset"]
            )
        except LightCurveError as exc:
            raise CommandError(str(exc)) from exc
        arrays = {
            key: np.asarray(value) for key, value in {**result.views, **result.diagnostics}.items()
        }
        diagnostics = result.diagnostics
        out: Path = opts["out"]
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("wb") as handle:
            np.savez(handle, **arrays)
        self.stdout.write(
            f"wrote {out}: {len(arrays)} arrays, n_transits={diagnostics['n_transits']}, "
            f"snr={diagnostics['snr']:.1f}, odd_even_sigma={diagnostics['odd_even_sigma']:.1f}, "
            f"secondary_sigma={diagnostics['secondary_sigma']:.1f}"
        )
