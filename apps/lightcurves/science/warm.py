"""Compile every light-curve numba kernel once on tiny inputs, so ``cache=True`` writes them to the
numba cache and a fresh worker's first job loads machine code instead of compiling for ~15 s.

The inputs go through the same public functions, with the same dtypes (float64 arrays, int64
quality, two segments, known TCEs), as the site's jobs: numba caches one entry per type signature,
so a call with other types would leave the real one cold. ``python -m apps.lightcurves.science.warm``
runs it without Django; ``manage.py warm_kernels`` runs it with the project's cache folder.
"""

from __future__ import annotations

import time

import numpy as np

from .detrend import biweight_trend
from .io import LightCurve
from .pipeline import Ephemeris, flatten_lightcurves, search_transits, tce_views
from .search_run import SearchOptions
from .views import PRESETS

PERIOD, EPOCH, DURATION_H = 3.1, 1.3, 3.0


def _segment(start: float, part_seed: int) -> LightCurve:
    """About 20 days of 30-min cadences with a 0.5 % box transit, a slow trend, flags and a NaN."""
    rng = np.random.default_rng(part_seed)
    time_ = start + np.arange(1000) * (29.4 / 1440.0)
    flux = 1e4 * (1 + 1e-3 * np.sin(time_ / 3.0) + 2e-4 * rng.standard_normal(time_.size))
    phase = (time_ - EPOCH + 0.5 * PERIOD) % PERIOD - 0.5 * PERIOD
    flux[np.abs(phase) < DURATION_H / 48.0] *= 0.995
    quality = np.zeros(time_.size, dtype=np.int64)
    quality[::97] = 1  # attitude tweak: a default-mask bit
    flux[5] = np.nan
    col = 500 + 0.01 * rng.standard_normal(time_.size)
    row = 300 + 0.01 * rng.standard_normal(time_.size)
    err = np.full(time_.size, 2.0)
    return LightCurve(
        time=time_, flux=flux, flux_err=err, sap_flux=flux.copy(), sap_flux_err=err, centroid_col=col,
        centroid_row=row, quality=quality, mission="Kepler", target_id=1, segment=part_seed,
    )


def warm() -> dict[str, float]:
    """Run processing (every preset), views, biweight and the transit search once; seconds per step."""
    curves = [_segment(0.0, 1), _segment(21.0, 2)]
    tce = Ephemeris(PERIOD, EPOCH, DURATION_H)
    other = Ephemeris(7.3, 2.2, 2.0)
    steps: dict[str, float] = {}

    def timed(name: str, fn) -> object:  # noqa: ANN001
        start = time.perf_counter()
        out = fn()
        steps[name] = time.perf_counter() - start
        return out

    for preset in PRESETS:
        flat = timed(f"flatten {preset}", lambda p=preset: flatten_lightcurves(curves, preset=p, tces=[tce, other]))
        timed(f"views {preset}", lambda p=preset, f=flat: tce_views(
            curves, PERIOD, EPOCH, DURATION_H, preset=p, other_tces=[other], flat=f,
        ))
    timed("views without a flattened series", lambda: tce_views(curves, PERIOD, EPOCH, DURATION_H, preset="gaia"))
    timed("biweight flatten", lambda: flatten_lightcurves(curves, preset="gaia", detrender="biweight"))
    flat = flatten_lightcurves(curves, preset="gaia")
    timed("biweight, threaded kernel", lambda: biweight_trend(flat.time, flat.flux, window_days=0.5, parallel=True))
    timed("transit search (BLS)", lambda: search_transits(curves, SearchOptions(n_periods=300, max_signals=2, min_sde=0.0, min_snr=0.0)))
    return steps


def main() -> None:
    start = time.perf_counter()
    for name, seconds in warm().items():
        print(f"{name:40s} {seconds:6.2f} s")
    print(f"light-curve kernels warm in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
