"""Compile the GALEX numba kernels once by reducing a tiny simulated eclipse, so ``cache=True``
writes them to the numba cache and a fresh worker's first reduction loads machine code instead
of compiling for ~20 s.

A real reduction, not hand-made inputs: numba caches one entry per type signature, and the
simulator's raw6 file and aspect tables go through the very reader, calibration, imaging and
photometry calls (and dtypes) a job uses, with one thread and with two (the threaded paths hold
frames sparse). NUV and FUV, pre-CSP eclipses; a post-CSP eclipse's extra kernels compile on its
first reduction. Needs the gPhoton 2 calibration folder: without one it does nothing.
``manage.py warm_kernels`` passes the site's ``GALEX_CAL_DIR``.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from .pipeline import reduce_eclipse
from .simulate import simulate_eclipse

WARM_SETTINGS = {"cal_dir": "GALEX_CAL_DIR"}
"""Keyword of :func:`warm` -> the Django setting ``warm_kernels`` passes for it."""


def warm(cal_dir: str | os.PathLike | None = None) -> dict[str, float]:
    """Seconds per step (simulate, then reduce per band and thread count); {} without calibration files."""
    if cal_dir is None or not Path(cal_dir).is_dir():
        return {}
    steps: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="galex-warm-") as tmp:
        for band in ("NUV", "FUV"):
            start = time.perf_counter()
            sim = simulate_eclipse(Path(tmp) / band, cal_dir, n_events=40_000, seed=5, field_radius_deg=0.12, band=band)
            steps[f"simulate {band}"] = time.perf_counter() - start
            for threads in (1, 2):
                start = time.perf_counter()
                reduce_eclipse(sim.raw6_path, sim.aspect_dir, Path(tmp) / f"{band}-{threads}", band=band, depth=20,
                               compression="gzip", cal_dir=cal_dir, threads=threads)  # fmt: skip
                steps[f"reduce {band}, {threads} thread(s)"] = time.perf_counter() - start
    return steps


if __name__ == "__main__":  # python -m apps.galex.science.warm CAL_DIR
    import sys

    print(warm(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("GAIA_GALEX_CAL_DIR")))
