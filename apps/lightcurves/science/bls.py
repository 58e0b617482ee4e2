"""Box Least Squares periodogram (own numba implementation; astropy's BoxLeastSquares is the peer).

The light curve is first resampled onto a uniform time grid of cell width ``delta`` (sums of
``w*y`` and ``w`` per cell). Folding at period P then needs no per-point work: cycle k covers
cells ``ceil(k P / delta) .. ceil((k+1) P / delta) - 1``, which map one-to-one onto phase bins
0, 1, ... of width ``delta``, so each cycle is one contiguous (vectorisable) block addition. Box
sums over the folded bins come from cumulative sums, and the objective is astropy's
"likelihood": ``0.5 * w_in * (mean_out - mean_in)**2`` for dips only. The folded cell sums
are float32 (the fold streams the whole grid once per period, so its bytes are its cost);
cumulative sums and the objective are float64. Blocks of periods run on numba's threads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from .errors import InvalidInput

BLOCK = 8  # periods folded together over one pass of the grid
CHUNK = 4096  # grid cells per pass step: a chunk of float32 (w*y, w) pairs (32 KiB) stays in cache


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
def fold_periods(g, o, chunk, f):
    """Fold the grid at several periods at once, streaming it in cache-sized chunks.

    g: (2 m,) interleaved cell sums (w*y, w); o: (nq,) periods in cells; f: (nq, 2 * width)
    zeroed interleaved accumulators with width >= ceil(max o) + 1: phase bin j goes to
    f[:, 2 (j + 1)] and f[:, 2 (j + 1) + 1]. Each chunk of cells is added into every period
    while it is still in cache; each bin receives its additions in the same order (by cycle)
    as a one-period fold, so the sums do not depend on ``chunk``. A chunk without data (the
    gaps between TESS sectors years apart) is skipped: adding zeros changes no sum, and the
    cycle of each period is found again at the next chunk with data.
    """
    m = g.shape[0] // 2
    nq = o.shape[0]
    k = np.zeros(nq, dtype=np.int64)  # current cycle per period
    lo = np.zeros(nq, dtype=np.int64)  # its first cell, ceil(k * o)
    hi = np.empty(nq, dtype=np.int64)  # first cell of the next cycle, ceil((k + 1) * o)
    for q in range(nq):
        hi[q] = int(np.ceil(o[q]))
    skipped = False
    for cs in range(0, m, chunk):
        ce = min(cs + chunk, m)
        empty = True
        for c in range(cs, ce):
            if g[2 * c + 1] != 0.0:
                empty = False
                break
        if empty:
            skipped = True
            continue
        if skipped:  # the cycle holding cell cs, with the same ceil() boundaries as below
            for q in range(nq):
                kq = int(cs / o[q])
                while int(np.ceil((kq + 1) * o[q])) <= cs:
                    kq += 1
                while kq > 0 and int(np.ceil(kq * o[q])) > cs:
                    kq -= 1
                k[q] = kq
                lo[q] = int(np.ceil(kq * o[q]))
                hi[q] = int(np.ceil((kq + 1) * o[q]))
            skipped = False
        for q in range(nq):
            fq = f[q]
            c = cs
            while c < ce:
                end = min(hi[q], ce)
                off = c - lo[q] + 1
                n2 = 2 * (end - c)
                # slice views indexed by a range variable: no negative-index wrap-around
                # checks, so LLVM vectorises the block addition
                acc, src = fq[2 * off : 2 * off + n2], g[2 * c : 2 * end]
                for j in range(n2):
                    acc[j] += src[j]
                c = end
                if end == hi[q]:
                    k[q] += 1
                    lo[q] = hi[q]
                    hi[q] = int(np.ceil((k[q] + 1) * o[q]))


@njit(cache=True)
def scan_boxes(f32, f, nb, sy, sw, dur_bins):
    """Best dip box of one folded period: cumulative sums in place, then every start x duration.

    f32: (>= 2 * (nb + 1),) interleaved float32 folded sums (w*y, w) with bin 0 zero; f:
    (>= 2 * (nb + max(dur_bins) + 1),) float64 workspace for their cumulative sums. Returns
    (objective, depth, start, duration index), (0, 0, -1, -1) when no box dips.
    """
    maxd = dur_bins.max()
    f[0] = 0.0
    f[1] = 0.0
    for j in range(2, 2 * (nb + 1)):
        f[j] = f[j - 2] + f32[j]
    for j in range(2 * (nb + 1), 2 * (nb + maxd + 1)):  # wrap: boxes crossing phase 0
        f[j] = f[j - 2] + f32[j - 2 * nb]
    best, best_dep, best_n, best_d = 0.0, 0.0, -1, -1
    two_best = 0.0
    for di in range(dur_bins.shape[0]):
        d = dur_bins[di]
        for n in range(nb):
            w_in = f[2 * (n + d) + 1] - f[2 * n + 1]
            w_out = sw - w_in
            if w_in <= 1e-12 or w_out <= 1e-12:
                continue
            s_in = f[2 * (n + d)] - f[2 * n]
            # depth = num / (w_in * w_out) and objective = 0.5 * num**2 / (w_in * w_out**2):
            # screen boxes without divisions, evaluate the winner as the reference does
            num = sy * w_in - s_in * sw
            if num <= 0.0 or num * num <= two_best * (w_in * w_out * w_out):
                continue
            dep = (sy - s_in) / w_out - s_in / w_in
            if dep <= 0.0:
                continue
            obj = 0.5 * w_in * dep * dep
            if obj > best:
                best, best_dep, best_n, best_d = obj, dep, n, di
                two_best = 2.0 * obj
    return best, best_dep, best_n, best_d


@njit(cache=True)
def interleave(gy, gw):
    """float32 (w*y, w) pairs of each cell in one (2 m,) array, and the totals of both.

    float32 halves the memory traffic of the fold (its cost) and doubles its SIMD width; the
    cells hold mean-subtracted fluxes, so 7 digits are plenty, and the cumulative sums and
    the objective are in float64.

    A plain serial loop: inside a parallel function, ``.sum()`` would become a threaded
    reduction whose rounding depends on the number of threads.
    """
    m = gy.shape[0]
    g = np.empty(2 * m, dtype=np.float32)
    sy = 0.0
    sw = 0.0
    for c in range(m):
        g[2 * c] = gy[c]
        g[2 * c + 1] = gw[c]
        sy += g[2 * c]  # totals of the float32 values, consistent with the folded sums
        sw += g[2 * c + 1]
    return g, sy, sw


@njit(cache=True, parallel=True)
def bls_kernel(gy, gw, delta, periods, dur_bins, power, depth, start, dur_index):
    """BLS over periods for gridded data (see module docstring), results written per period.

    gy, gw: (m,) gridded sums; dur_bins: (nd,) box lengths in cells; outputs (np,): best
    objective, depth (mean_out - mean_in), first cell of the box in cycle 0, index of the
    duration. A period with no valid box gets power 0 and start -1. Blocks of BLOCK periods
    run in parallel threads (each with its own accumulators); results do not depend on the
    thread count.
    """
    g, sy, sw = interleave(gy, gw)
    maxd = dur_bins.max()
    npd = periods.shape[0]
    nblocks = (npd + BLOCK - 1) // BLOCK
    for b in prange(nblocks):
        p0 = b * BLOCK
        p1 = min(p0 + BLOCK, npd)
        o = periods[p0:p1] / delta
        width = int(np.ceil(o.max())) + maxd + 1
        f = np.zeros((p1 - p0, 2 * width), dtype=np.float32)
        fold_periods(g, o, CHUNK, f)
        work = np.empty(2 * width)
        for q in range(p1 - p0):
            nb = int(np.ceil(o[q]))
            res = scan_boxes(f[q], work, nb, sy, sw, dur_bins)
            power[p0 + q], depth[p0 + q], start[p0 + q], dur_index[p0 + q] = res


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
    gy, gw = gy.astype(np.float32), gw.astype(np.float32)  # the kernel works on float32 cells
    out = []
    for period in periods:
        o = period / delta
        nb = int(np.ceil(o))
        cuts = np.array([int(np.ceil(k * o)) for k in range(int(m / o) + 2)])
        cycle = np.searchsorted(cuts, np.arange(m), side="right") - 1
        phase_bin = np.arange(m) - cuts[cycle]
        fy = np.zeros(nb, dtype=np.float32)  # folded in float32 as the kernel does
        fw = np.zeros(nb, dtype=np.float32)
        np.add.at(fy, phase_bin, gy)
        np.add.at(fw, phase_bin, gw)
        fy, fw = fy.astype(np.float64), fw.astype(np.float64)
        best = (0.0, 0.0, -1, -1)
        for di, d in enumerate(dur_bins):
            for n in range(nb):
                idx = (n + np.arange(d)) % nb
                w_in = fw[idx].sum()
                w_out = gw.sum(dtype=np.float64) - w_in
                if w_in <= 1e-12 or w_out <= 1e-12:
                    continue
                dep = (gy.sum(dtype=np.float64) - fy[idx].sum()) / w_out - fy[idx].sum() / w_in
                if dep > 0 and 0.5 * w_in * dep**2 > best[0]:
                    best = (0.5 * w_in * dep**2, dep, n, di)
        out.append(best)
    power, depth, start, dur_index = (np.array(col) for col in zip(*out, strict=True))
    return power, depth, start.astype(np.int64), dur_index.astype(np.int64)
