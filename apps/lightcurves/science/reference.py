"""Slow, obvious re-statements used to check the fast kernels (tests and benchmark only).

``astronet_*`` re-state google-research/exoplanet-ml's AstroNet preprocessing as its code does
it (``astronet/data/preprocess.py``, ``light_curve/util.py``, ``light_curve/binning.py``,
``third_party/kepler_spline/kepler_spline.py`` and ``third_party/robust_mean/robust_mean.py``),
with pydl's ``bspline.iterfit`` replaced by scipy: its knots (``int(range / bkspace) + 1``
uniform breakpoints over the fitted points, three more each side) and its single unweighted
least-squares fit per call (pydl's own 5-sigma rejection never triggers a refit, because its
loop tests ``qdone == -1``). TensorFlow is not needed: the views are returned as arrays.
Known difference: pydl built breakpoints in float32 under numpy 1.x; here they are float64.
"""

from __future__ import annotations

import numpy as np
from scipy.interpolate import BSpline


def robust_mean_mask(y: np.ndarray, cut: float) -> np.ndarray:
    """robust_mean's third output: True for points within cut sigma of the median."""
    absdev = np.abs(y - np.median(y))
    sigma = 1.4826 * np.median(absdev)
    if sigma < 1.0e-24:
        sigma = 1.253 * np.mean(absdev)
    mask = absdev <= cut * sigma
    sigma = np.std(y[mask])
    sc = max(cut, 1.0)
    if sc <= 4.5:
        sigma /= -0.15405 + 0.90723 * sc - 0.23584 * sc**2 + 0.020142 * sc**3
    return absdev <= cut * sigma


def lsq_bspline(x: np.ndarray, y: np.ndarray, bkspace: float) -> BSpline:
    """pydl-style cubic B-spline least-squares fit on uniform breakpoints spanning x."""
    nbk = max(int((x.max() - x.min()) / bkspace) + 1, 2)
    h = (x.max() - x.min()) / (nbk - 1)
    knots = x.min() + h * np.arange(-3, nbk + 3)
    design = BSpline.design_matrix(x, knots, 3, extrapolate=True)
    normal = (design.T @ design).toarray()
    coef = np.linalg.solve(normal, design.T @ y)
    return BSpline(knots, coef, 3, extrapolate=True)


def kepler_spline(
    time: np.ndarray, flux: np.ndarray, bkspace: float, maxiter: int = 5, cut: float = 3.0
):
    """One segment's iterative spline fit; returns (spline values, mask) or None (< 4 points)."""
    if len(time) < 4:
        return None
    t_min, t_max = np.min(time), np.max(time)
    x = (time - t_min) / (t_max - t_min)
    bks = bkspace / (t_max - t_min)
    spline, mask = None, None
    for _ in range(maxiter):
        if spline is None:
            mask = np.ones_like(x, dtype=bool)
        else:
            new_mask = robust_mean_mask(flux - spline, cut)
            if np.all(new_mask == mask):
                break
            mask = new_mask
        if np.sum(mask) < 4:
            return None
        spline = lsq_bspline(x[mask], flux[mask], bks)(x)
    return spline, mask


def choose_kepler_spline(all_time, all_flux, bkspaces, maxiter=5, penalty_coeff=1.0):
    """BIC choice of spacing over segments; returns (list of splines, chosen bkspace, BICs)."""
    diffs = np.concatenate([np.diff(f) / np.sqrt(2) for f in all_flux])
    sigma = np.median(np.abs(diffs)) * 1.48
    if not sigma > 0:
        # Constant series: the same floor as the fast kernel (see _spline_fast._sigma_floor).
        sigma = 1e-9 * max(1.0, max(float(np.max(np.abs(f))) for f in all_flux))
    best, best_bic, best_bk, bics = None, None, float("nan"), []
    for bkspace in bkspaces:
        nparams, npoints, ssr, spline = 0, 0, 0.0, []
        for time, flux in zip(all_time, all_flux, strict=True):
            fit = kepler_spline(time, flux, bkspace, maxiter)
            if fit is None:
                spline.append(np.full(len(flux), np.nan))
                continue
            piece, mask = fit
            spline.append(piece)
            nparams += int((np.max(time) - np.min(time)) / bkspace) + 1 + 3 - 1
            npoints += np.sum(mask)
            ssr += np.sum((flux[mask] - piece[mask]) ** 2)
        if not npoints:
            bics.append(np.inf)
            continue
        bic = (
            npoints * np.log(2 * np.pi * sigma**2)
            + ssr / sigma**2
            + penalty_coeff * nparams * np.log(npoints)
        )
        bics.append(bic)
        if best is None or bic < best_bic:
            best, best_bic, best_bk = spline, bic, bkspace
    return best, best_bk, np.array(bics)


def split(time: np.ndarray, flux: np.ndarray, part: np.ndarray, gap: float = 0.75):
    """util.split over per-file arrays: a new segment at every file and every gap > ``gap``."""
    out_t, out_f = [], []
    for p in np.unique(part):
        t, f = time[part == p], flux[part == p]
        start = 0
        for end in range(1, len(t) + 1):
            if end == len(t) or t[end] - t[end - 1] > gap:
                out_t.append(t[start:end])
                out_f.append(f[start:end])
                start = end
    return out_t, out_f


def bin_and_aggregate(x, y, num_bins, bin_width, x_min, x_max):
    """binning.bin_and_aggregate with np.median, left edges accumulated by repeated addition."""
    spacing = (x_max - x_min - bin_width) / (num_bins - 1)
    result, counts = np.zeros(num_bins), np.zeros(num_bins, dtype=np.int64)
    lo, hi = x_min, x_min + bin_width
    for i in range(num_bins):
        inside = (x >= lo) & (x < hi) & (x >= x_min)
        if inside.any():
            result[i] = np.median(y[inside])
            counts[i] = inside.sum()
        lo += spacing
        hi += spacing
    return result, counts


def generate_view(time, values, num_bins, bin_width, t_min, t_max):
    """preprocess.generate_view with normalize=True."""
    view, counts = bin_and_aggregate(time, values, num_bins, bin_width, t_min, t_max)
    view = np.where(counts > 0, view, np.median(values))
    view -= np.median(view)
    view /= np.abs(np.min(view))
    return view


def astronet_views(time, flux, part, period, t0, duration_hours, bkspaces):
    """AstroNet's process_light_curve + global and local views for one TCE.

    Parameters are the NaN-free stitched PDCSAP series, each cadence's file index, and the TCE
    (period and t0 in days, duration in hours). Returns a dict with ``global_view`` (2001),
    ``local_view`` (201), the flattened ``time``/``flux`` and the chosen ``bkspace``.
    """
    all_t, all_f = split(time, flux, part)
    spline, bkspace, _ = choose_kepler_spline(all_t, all_f, bkspaces)
    t, f, s = np.concatenate(all_t), np.concatenate(all_f), np.concatenate(spline)
    ok = np.isfinite(s)
    t, f = t[ok], f[ok] / s[ok]
    half = period / 2
    phase = np.mod(t + (half - t0), period) - half
    order = np.argsort(phase)
    phase, folded = phase[order], f[order]
    duration = duration_hours / 24
    glob = generate_view(phase, folded, 2001, period / 2001, -half, half)
    loc = generate_view(
        phase, folded, 201, 0.16 * duration, max(-half, -4 * duration), min(half, 4 * duration)
    )
    return {"global_view": glob, "local_view": loc, "time": t, "flux": f, "bkspace": bkspace}


def biweight_trend(time, flux, half_window, cval=5.0, maxiter=10, ftol=1e-6):
    """Point-by-point sliding biweight location (one segment), the obvious way.

    The scale is the MAD about the median, fixed over the iterations (as in wotan).
    """
    out = np.empty(len(time))
    for i, ti in enumerate(time):
        x = flux[np.abs(time - ti) <= half_window]
        loc = np.median(x)
        mad = np.median(np.abs(x - loc))
        for _ in range(maxiter if mad > 0 else 0):
            u = (x - loc) / (cval * mad)
            w = np.where(np.abs(u) < 1, (1 - u**2) ** 2, 0.0)
            step = np.sum(w * (x - loc)) / np.sum(w)
            loc += step
            if abs(step) < ftol:
                break
        out[i] = loc
    return out


def biweight_line_trend(time, flux, half_window, cval=5.0, maxiter=10, ftol=1e-7, stride=1):
    """Point-by-point sliding biweight robust line (one segment), the obvious way.

    Resistant-line start (medians of the outer thirds), MAD of its residuals as the fixed
    scale, then weighted least squares with biweight weights (numpy's lstsq); fitted at every
    ``stride``-th point and the last, np.interp in between.
    """
    at = np.unique(np.r_[np.arange(0, len(time), stride), len(time) - 1])
    out = np.empty(at.size)
    for o, i in enumerate(at):
        ti = time[i]
        sel = np.abs(time - ti) <= half_window
        x, y = time[sel] - ti, flux[sel]
        n = x.size
        if n < 3 or x[-1] - x[0] <= 0:
            out[o] = np.median(y)
            continue
        k = max(1, n // 3)
        dx = np.median(x[-k:]) - np.median(x[:k])
        b = (np.median(y[-k:]) - np.median(y[:k])) / dx if dx > 0 else 0.0
        a = np.median(y - b * x)
        r = y - b * x - a
        mad = np.median(np.abs(r - np.median(r)))
        if mad == 0:
            out[o] = a
            continue
        for _ in range(maxiter):
            u = (y - a - b * x) / (cval * mad)
            w = np.where(np.abs(u) < 1, (1 - u**2) ** 2, 0.0)
            if w.sum() <= 0 or np.count_nonzero(w) < 2:
                break
            sw = np.sqrt(w)
            coef = np.linalg.lstsq(np.column_stack([sw, sw * x]), sw * y, rcond=None)[0]
            step = coef[0] - a
            a, b = coef
            if abs(step) < ftol:
                break
        out[o] = a
    return np.interp(time, time[at], out)
