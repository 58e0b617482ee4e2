"""manage.py tce_views: views and diagnostics of one TCE from light-curve FITS files (no database)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from django.core.management.base import BaseCommand

from apps.lightcurves.management.fits import add_fits_arguments, science_errors
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
        add_fits_arguments(parser, out=".npz")
        parser.add_argument("--period", required=True, type=float, help="period, days")
        parser.add_argument(
            "--epoch", required=True, type=float, help="mid-transit time, BKJD/BTJD"
        )
        parser.add_argument(
            "--duration-hours", required=True, type=float, help="transit duration, hours"
        )
        parser.add_argument("--preset", default="gaia", choices=sorted(PRESETS), help="view preset")

    def handle(self, *args, **opts) -> None:
        with science_errors():
            curves = [read_fits(path) for path in opts["fits"]]
            result = tce_views(
                curves, opts["period"], opts["epoch"], opts["duration_hours"], preset=opts["preset"]
            )
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
