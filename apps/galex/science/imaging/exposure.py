"""Exposure time per frame (gPhoton 2 ``compute_exptime``): shutter, raw and dead time."""

from __future__ import annotations

import numpy as np
from numba import njit

from ..constants import (
    FEE_CLOCK_RATIO,
    SHUTTER_GAP,
    band_constants,
)
from ..errors import GalexError


# --------------------------------------------------------------------------------------
# Exposure time
# --------------------------------------------------------------------------------------
def exposure_reference(
    t: np.ndarray, flags: np.ndarray, band: str, t0: float, t1: float
) -> tuple[float, float, float]:
    """gPhoton 2 ``compute_exptime`` on the events of [t0, t1); returns (expt, raw, shutter)."""
    sel = (t >= t0) & (t < t1) & (flags == 0)
    tt = np.hstack([t0, np.unique(t[sel]), t1])
    gaps = np.diff(tt)
    shutter = gaps[gaps >= SHUTTER_GAP].sum()
    raw = t1 - t0 - shutter
    if raw == 0:
        return 0.0, 0.0, float(shutter)
    gcr = sel.sum() / raw
    m, b = band_constants(band, 1).deadtime
    refrate = b / FEE_CLOCK_RATIO
    deadtime = 1 - (m * gcr + b) / FEE_CLOCK_RATIO / refrate
    return float(raw * (1.0 - deadtime)), float(raw), float(shutter)


@njit(cache=True, nogil=True)
def _shutter_kernel(t, flags, edges, last, count, shutter):
    nf = edges.shape[0] - 1
    for i in range(t.shape[0]):
        if flags[i] != 0:
            continue
        k = np.searchsorted(edges, t[i], side="right") - 1
        if k < 0 or k >= nf:
            continue
        gap = t[i] - last[k]
        if gap >= 0.05:
            shutter[k] += gap
        if t[i] > last[k]:
            last[k] = t[i]
        count[k] += 1


class ExposureAccumulator:
    """Streaming exposure of frames [edges[k], edges[k+1]); events must arrive time-sorted."""

    def __init__(self, edges: np.ndarray):
        self.edges = np.ascontiguousarray(edges, np.float64)
        n = len(self.edges) - 1
        self.last = self.edges[:-1].copy()
        self.count = np.zeros(n, np.int64)
        self.shutter = np.zeros(n, np.float64)

    def add(self, t: np.ndarray, flags: np.ndarray) -> None:
        _shutter_kernel(np.ascontiguousarray(t, np.float64), np.ascontiguousarray(flags, np.uint8),
                        self.edges, self.last, self.count, self.shutter)  # fmt: skip

    def result(self, band: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(exptime, raw exposure, shutter) per frame, seconds."""
        tail = self.edges[1:] - self.last
        shutter = self.shutter + np.where(tail >= SHUTTER_GAP, tail, 0.0)
        raw = np.diff(self.edges) - shutter
        m, b = band_constants(band, 1).deadtime
        with np.errstate(invalid="ignore", divide="ignore"):
            gcr = np.where(raw != 0, self.count / raw, 0.0)
        deadtime = 1 - (m * gcr + b) / FEE_CLOCK_RATIO / (b / FEE_CLOCK_RATIO)
        expt = np.where(raw != 0, raw * (1.0 - deadtime), 0.0)
        return expt, raw, shutter


def movie_edges(t_min: float, t_max: float, depth: float) -> np.ndarray:
    """Frame edges ``arange(tmin, tmax + depth, depth)`` as gPhoton 2 ``make_movies``."""
    if depth <= 0:
        raise GalexError(f"movie depth must be positive, got {depth}")
    return np.arange(t_min, t_max + depth, depth)
