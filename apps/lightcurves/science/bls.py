"""Box Least Squares periodogram (own numba implementation; astropy's BoxLeastSquares is the peer).

The light curve is first resampled onto a uniform time grid of cell width ``delta`` (sums of
``w*y`` and ``w`` per cell). Folding at period P then needs no per-point work: cycle k covers
cells ``ceil(k P / delta) .. ceil((k+1) P / delta) - 1``, which map one-to-one onto phase bins
0, 1, ... of width ``delta``, so each cycle is one contiguous (vectorisable) block addition. Box
sums over the folded bins come from cumulative sums, and the objective is astropy's
"likelihood": ``0.5 * w_in * (mean_out - mean_in)**2`` for dips only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from .errors import InvalidInput


@njit(cache=True)
def grid_series(time, y, w, t_ref, delta, m):
    """Sum w*y and w of each point into cells of width delta from t_ref; returns (gy, gw) (m,)."""
    gy = np.zeros(m)
    gw = np.zeros(m)
    for i in range(time.shape[0]):
        g = int((time[i] - t_ref) / delta)
        if 0 <= g < m:
            gy[g] += w[i] * y[i]
            gw[g] += w[i]
    return gy, gw


@njit(cache=True)
def bls_kernel(gy, gw, delta, periods, dur_bins, power, depth, start, dur_index):
    """BLS over periods for gridded data (see module docstring), results written per period.

    gy, gw: (m,) gridded sums; dur_bins: (nd,) box lengths in cells; outputs (np,): best
    objective, depth (mean_out - mean_in), first cell of the box in cycle 0, index of the
    duration. A period with no valid box gets power 0 and start -1.
    """
    m = gy.shape[0]
    sy = gy.sum()
    sw = gw.sum()
    maxd = dur_bins.max()
    for p in range(periods.shape[0]):
        o = periods[p] / delta
        nb = int(np.ceil(o))
        fy = np.zeros(nb + maxd + 1)
        fw = np.zeros(nb + maxd + 1)
        k = 0
        c = 0
        while c < m:
            c_next = int(np.ceil((k + 1) * o))
            end = min(c_next, m)
            for j in range(end - c):  # contiguous block addition (vectorised by LLVM)
                fy[j + 1] += gy[c + j]
                fw[j + 1] += gw[c + j]
            c = c_next
            k += 1
        for j in range(maxd):  # wrap the first bins after the last for boxes crossing phase 0
            fy[nb + 1 + j] = fy[1 + j]
            fw[nb + 1 + j] = fw[1 + j]
        for j in range(1, nb + maxd + 1):
            fy[j] += fy[j - 1]
            fw[j] += fw[j - 1]
        best = 0.0
        power[p] = 0.0
        depth[p] = 0.0
        start[p] = -1
        dur_index[p] = -1
        for di in range(dur_bins.shape[0]):
            d = dur_bins[di]
            for n in range(nb):
                w_in = fw[n + d] - fw[n]
                w_out = sw - w_in
                if w_in <= 1e-12 or w_out <= 1e-12:
                    continue
                y_in = (fy[n + d] - fy[n]) / w_in
                y_out = (sy - (fy[n + d] - fy[n])) / w_out
                dep = y_out - y_in
                if dep <= 0.0:
                    continue
                obj = 0.5 * w_in * dep * dep
                if obj > best:
                    best = obj
                    power[p] = obj
                    depth[p] = dep
                    start[p] = n
                    dur_index[p] = di


@dataclass(frozen=True, eq=False)
class BlsResult:
    """Per-period BLS results.

    Attributes
    ----------
    periods : ndarray, shape (np,)
        Trial periods, days.
    power : ndarray, shape (np,)
        Best objective (0.5 * w_in * depth**2, in units of the weights) at each period.
    depth : ndarray, shape (np,)
        Box depth at the best box, flux units (positive for a dip).
    epoch : ndarray, shape (np,)
        Mid-box time of the best box, days (the first such time at or after ``t_ref``).
    duration : ndarray, shape (np,)
        Box length of the best box, days.
    """

    periods: np.ndarray
    power: np.ndarray
    depth: np.ndarray
    epoch: np.ndarray
    duration: np.ndarray

    @property
    def best(self) -> int:
        """Index of the highest peak."""
        return int(np.argmax(self.power))


def bls(
    time: object,
    flux: object,
    periods: object,
    durations: object,
    *,
    oversample: int = 3,
    weights: object | None = None,
) -> BlsResult:
    """Box Least Squares periodogram of a flattened light curve.

    Parameters
    ----------
    time, flux : array_like, shape (n,)
        Finite times (days) and flattened fluxes (about 1 out of transit).
    periods : array_like, shape (np,)
        Trial periods, days, each longer than the longest duration.
    durations : array_like, shape (nd,)
        Trial box durations, days.
    oversample : int
        Grid cells per shortest duration; the phase resolution is ``min(durations) / oversample``.
    weights : array_like, shape (n,), optional
        Inverse variances; uniform by default (as astropy with ``dy=None``).

    Returns
    -------
    BlsResult

    Raises
    ------
    InvalidInput
        Empty or non-finite arrays, non-positive periods or durations, a duration not shorter
        than the shortest period.
    """
    t = np.ascontiguousarray(np.asarray(time, dtype=np.float64))
    f = np.ascontiguousarray(np.asarray(flux, dtype=np.float64))
    p = np.ascontiguousarray(np.asarray(periods, dtype=np.float64))
    d = np.ascontiguousarray(np.asarray(durations, dtype=np.float64))
    if t.ndim != 1 or t.size < 2 or f.shape != t.shape:
        raise InvalidInput("time and flux must be 1-D arrays of one length with at least 2 points")
    if not (np.isfinite(t).all() and np.isfinite(f).all()):
        raise InvalidInput("time and flux must be finite")
    if p.size == 0 or d.size == 0 or not (np.all(p > 0) and np.all(d > 0)):
        raise InvalidInput("periods and durations must be non-empty and positive")
    if d.max() >= p.min():
        raise InvalidInput(
            f"the longest duration ({d.max():.4g} d) must be shorter than the shortest period ({p.min():.4g} d)"
        )
    if oversample < 1:
        raise InvalidInput("oversample must be >= 1")
    w = (
        np.ones_like(t)
        if weights is None
        else np.ascontiguousarray(np.asarray(weights, dtype=np.float64))
    )
    if w.shape != t.shape or not np.all(w >= 0):
        raise InvalidInput("weights must be non-negative with the shape of time")
    delta = d.min() / oversample
    t_ref = t.min()
    m = int((t.max() - t_ref) / delta) + 1
    y = f - np.sum(w * f) / np.sum(w)
    gy, gw = grid_series(t, y, w, t_ref, delta, m)
    dur_bins = np.maximum(np.rint(d / delta).astype(np.int64), 1)
    power, depth = np.empty(p.size), np.empty(p.size)
    start, dur_index = np.empty(p.size, dtype=np.int64), np.empty(p.size, dtype=np.int64)
    bls_kernel(gy, gw, delta, p, dur_bins, power, depth, start, dur_index)
    ok = dur_index >= 0
    dur_days = np.where(ok, dur_bins[np.maximum(dur_index, 0)] * delta, np.nan)
    epoch = np.where(ok, t_ref + start * delta + 0.5 * dur_days, np.nan)
    return BlsResult(p, power, depth, epoch, dur_days)


def bls_reference(time, y, w, t_ref, delta, m, periods, dur_bins):
    """Slow, obvious twin of ``grid_series`` + ``bls_kernel`` (same definitions, plain numpy).

    Returns (power, depth, start, dur_index) arrays over periods.
    """
    g = ((time - t_ref) / delta).astype(np.int64)
    ok = (g >= 0) & (g < m)
    gy = np.zeros(m)
    gw = np.zeros(m)
    np.add.at(gy, g[ok], (w * y)[ok])
    np.add.at(gw, g[ok], w[ok])
    out = []
    for period in periods:
        o = period / delta
        nb = int(np.ceil(o))
        cuts = np.array([int(np.ceil(k * o)) for k in range(int(m / o) + 2)])
        cycle = np.searchsorted(cuts, np.arange(m), side="right") - 1
        phase_bin = np.arange(m) - cuts[cycle]
        fy = np.zeros(nb)
        fw = np.zeros(nb)
        np.add.at(fy, phase_bin, gy)
        np.add.at(fw, phase_bin, gw)
        best = (0.0, 0.0, -1, -1)
        for di, d in enumerate(dur_bins):
            for n in range(nb):
                idx = (n + np.arange(d)) % nb
                w_in = fw[idx].sum()
                w_out = gw.sum() - w_in
                if w_in <= 1e-12 or w_out <= 1e-12:
                    continue
                dep = (gy.sum() - fy[idx].sum()) / w_out - fy[idx].sum() / w_in
                if dep > 0 and 0.5 * w_in * dep**2 > best[0]:
                    best = (0.5 * w_in * dep**2, dep, n, di)
        out.append(best)
    power, depth, start, dur_index = (np.array(col) for col in zip(*out, strict=True))
    return power, depth, start.astype(np.int64), dur_index.astype(np.int64)
