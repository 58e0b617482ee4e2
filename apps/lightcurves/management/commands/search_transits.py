"""manage.py search_transits: BLS transit search of light-curve FITS files (no database)."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

from django.core.management.base import BaseCommand

from apps.lightcurves.management.fits import add_fits_arguments, science_errors
from apps.lightcurves.science.detection import SEARCH_PRESETS
from apps.lightcurves.science.io import read_fits
from apps.lightcurves.science.pipeline import search_transits
from apps.lightcurves.science.search_run import SearchOptions


class Command(BaseCommand):
    help = "Search light curves of one target for periodic transits and write the signals as JSON."
    requires_system_checks: list = []

    def add_arguments(self, parser) -> None:
        add_fits_arguments(parser, out=".json")
        parser.add_argument(
            "--period-min", type=float, default=0.5, help="shortest trial period, days"
        )
        parser.add_argument(
            "--period-max",
            type=float,
            default=None,
            help="longest trial period, days (default: half the baseline)",
        )
        parser.add_argument(
            "--n-periods", type=int, default=None,
            help="log-spaced trial periods instead of the Ofir grid (default)",
        )
        parser.add_argument(
            "--max-signals", type=int, default=3, help="stop after this many signals"
        )
        parser.add_argument(
            "--preset", default="gaia", choices=sorted(SEARCH_PRESETS), help="search preset"
        )
        parser.add_argument(
            "--density", type=float, default=None,
            help="stellar mean density, solar units (trial durations scale with it; broad if absent)",
        )
        parser.add_argument("--min-snr", type=float, default=None, help="SNR threshold (preset's)")
        parser.add_argument("--min-sde", type=float, default=None, help="SDE threshold (preset's)")

    def handle(self, *args, **opts) -> None:
        with science_errors():
            curves = [read_fits(path) for path in opts["fits"]]
            options = SearchOptions(**{f.name: opts[f.name] for f in fields(SearchOptions)})
            signals = search_transits(curves, options)
        first = curves[0]
        payload = {
            "target": {"mission": first.mission, "target_id": first.target_id},
            "files": [str(p) for p in opts["fits"]],
            "signals": [s.to_dict() for s in signals],
        }
        out: Path = opts["out"]
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(payload, indent=2))
        self.stdout.write(f"wrote {out}: {len(signals)} signal(s)")
        for s in signals:
            self.stdout.write(
                f"  P={s.period:.5f} d  T0={s.epoch:.4f}  D={s.duration_hours:.2f} h  depth={s.depth_ppm:.0f} ppm  SNR={s.snr:.1f}"
            )
