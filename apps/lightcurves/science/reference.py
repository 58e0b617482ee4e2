"""Slow, obvious re-statements used to check the fast kernels (tests and benchmark only).

``astronet_views`` re-states google-research/exoplanet-ml's AstroNet preprocessing as its code
does it (``astronet/data/preprocess.py``, ``light_curve/util.py``, ``light_curve/binning.py``),
on the spline restatement of :mod:`.spline.reference` (``kepler_spline``, ``robust_mean`` with
scipy in place of pydl). TensorFlow is not needed: the views are returned as arrays. The
``biweight_*`` functions are the point-by-point twins of :mod:`.biweight`.
"""

from __future__ import annotations

import numpy as np

from .spline.reference import choose_kepler_spline


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
