"""Detrending: the sliding biweight (location and robust line) and the transit search's trend.

AstroNet's BIC-chosen B-spline lives in the :mod:`.spline` package; the numba kernels of the
biweights in :mod:`.biweight`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .biweight import biweight_kernel, biweight_kernel_parallel, biweight_line_kernel
from .cleaning import GAP_DAYS, as_series, interpolate_masked, segment_bounds
from .errors import InvalidInput


def _windowed_series(
    time: object,
    flux: object,
    window_days: float,
    cval: float,
    bounds: np.ndarray | None,
    gap: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Check a sliding detrender's input once: (time, flux, segment bounds) as the kernels take."""
    t, f = as_series(time, flux)
    if not window_days > 0 or not cval > 0:
        raise InvalidInput("window_days and cval must be positive")
    b = segment_bounds(t, gap=gap) if bounds is None else np.asarray(bounds, dtype=np.int64)
    return t, f, b


def biweight_trend(
    time: object,
    flux: object,
    *,
    window_days: float = 0.5,
    cval: float = 5.0,
    maxiter: int = 10,
    ftol: float = 1e-6,
    bounds: np.ndarray | None = None,
    gap: float = GAP_DAYS,
    parallel: bool = False,
) -> np.ndarray:
    """Sliding-window Tukey biweight trend (the simpler detrender, comparable to wotan's).

    Parameters
    ----------
    time, flux : array_like, shape (n,)
        Sorted finite times (days) and fluxes.
    window_days : float
        Full window width, days; about three transit durations keeps transits out of the trend.
    cval : float
        Biweight tuning constant in units of the MAD (5 as in wotan).
    maxiter, ftol : int, float
        Location iterations stop after ``maxiter`` or when a step is below ``ftol`` (flux units).
    bounds, gap
        Segments as in :func:`fit_spline`; windows never cross a segment boundary.
    parallel : bool
        Share the work among numba's threads (``numba.set_num_threads``); same result.

    Returns
    -------
    ndarray, shape (n,)
        Trend, flux units.
    """
    t, f, b = _windowed_series(time, flux, window_days, cval, bounds, gap)
    out = np.empty(t.size)
    kernel = biweight_kernel_parallel if parallel else biweight_kernel
    kernel(t, f, b, 0.5 * window_days, cval, maxiter, ftol, out)
    return out


def biweight_line_trend(
    time: object,
    flux: object,
    *,
    window_days: float,
    cval: float = 5.0,
    maxiter: int = 10,
    ftol: float = 1e-7,
    bounds: np.ndarray | None = None,
    gap: float = GAP_DAYS,
    points_per_window: int = 30,
) -> np.ndarray:
    """Sliding Tukey-biweight robust line (a local-linear biweight; the search's detrender).

    Where the star's flux rises or falls steeply across the window (a young star's spots),
    the spread of a window's values is the slope, not the noise, so a biweight *location*
    takes transits and flares for ordinary points and follows them. Fitting a robust line in
    each window measures the scatter about the slope instead, so a transit or a flare stands
    out and is weighted down; at a segment's edge a line also has no one-sided bias.

    Parameters
    ----------
    time, flux : array_like, shape (n,)
        Sorted finite times (days) and fluxes.
    window_days : float
        Full window, days.
    cval, maxiter, ftol
        Biweight constant (in MADs), iterations, tolerance on the value (flux units).
    bounds, gap
        Segments as in :func:`fit_spline`; windows never cross a segment boundary.
    points_per_window : int
        The line is fitted at about this many points per window (every ``stride``-th
        cadence) and interpolated in between: 2-min TESS cadences under a 3-day window would
        otherwise cost 2,000 fits of 2,000 points each per day of data.

    Returns
    -------
    ndarray, shape (n,)
        Trend, flux units.
    """
    t, f, b = _windowed_series(time, flux, window_days, cval, bounds, gap)
    cadence = float(np.median(np.diff(t))) if t.size > 1 else window_days
    stride = max(1, int(window_days / max(cadence, 1e-9) / max(points_per_window, 1)))
    out = np.empty(t.size)
    biweight_line_kernel(t, f, b, 0.5 * window_days, cval, maxiter, ftol, stride, out)
    return out


@dataclass(frozen=True, eq=False)
class SearchTrend:
    """Result of :func:`search_trend`.

    Attributes
    ----------
    trend : ndarray, shape (n,)
        Multiplicative trend, flux units (flattened flux = flux / trend).
    flares : ndarray of bool, shape (n,)
        Cadences clipped as upward outliers (flares and their neighbours); they are kept out of
        the trend and should be kept out of the search.
    window : float
        Sliding window used, days.
    """

    trend: np.ndarray
    flares: np.ndarray
    window: float


def _dilate(mask: np.ndarray, k: int) -> np.ndarray:
    """``mask`` widened by ``k`` cadences on both sides."""
    out = mask.copy()
    for s in range(1, k + 1):
        out[s:] |= mask[:-s]
        out[:-s] |= mask[s:]
    return out


def _trend_without(
    t: np.ndarray, f: np.ndarray, use: np.ndarray, b: np.ndarray, window_days: float, twice: bool
) -> np.ndarray:
    """The twiced robust line fitted to the cadences in ``use`` only, and carried across the
    others by linear interpolation of the trend (wotan's way of masking: zero weight).

    Bridging masked cadences in the *flux* instead (a straight line between the two unmasked
    neighbours, as the spline does) hands the trend two single noisy cadences per masked
    run: at 2-min cadence their scatter is as large as a small planet's depth, and the noise
    measured near each masked transit doubled.
    """
    if use.all():
        ts, fs, bs = t, f, b
    else:
        kept_before = np.concatenate(([0], np.cumsum(use)))
        ts, fs, bs = t[use], f[use], np.unique(kept_before[b])
    if ts.size == 0:
        return np.full(t.size, float(np.median(f)) if f.size else 1.0)
    trend = biweight_line_trend(ts, fs, window_days=window_days, bounds=bs)
    if twice:
        trend = trend * biweight_line_trend(ts, fs / trend, window_days=window_days, bounds=bs)
    if ts is t:
        return trend
    full = np.empty(t.size)
    for a, e in zip(b[:-1], b[1:], strict=True):
        sel = use[a:e]
        if not sel.any():  # a segment with nothing to fit keeps its own median level
            full[a:e] = np.median(f[a:e])
            continue
        lo = int(kept_before[a])
        full[a:e] = np.interp(t[a:e], t[a:e][sel], trend[lo : lo + int(sel.sum())])
    return full


def search_trend(
    time: object,
    flux: object,
    *,
    window_days: float,
    bounds: np.ndarray | None = None,
    mask: np.ndarray | None = None,
    twice: bool = True,
    clip_sigma: float = 3.0,
    clip_iters: int = 2,
    clip_pad_days: float = 0.005,
) -> SearchTrend:
    """The transit search's detrender: a robust sliding biweight, twiced, with flares clipped.

    A Tukey biweight of ``window_days`` (wotan's choice for transit searches, with the window
    about three times the longest transit searched) follows a smooth trend only up to a bias
    that grows as its curvature: a sinusoid of period P keeps ``1 - sinc(window / P)`` of its
    amplitude. Smoothing the residual once more and multiplying the two trends (Tukey's
    "twicing") leaves ``(1 - sinc(window / P))**2``: a 1-d rotation under a 0.25-d window keeps
    1 % instead of 10 %. A box transit of duration window / 3 loses about a third of its depth
    to either trend, which is why found transits are masked (``mask``: left out of the fit, the
    trend carried across them) and the series detrended again before they are measured. Upward outliers
    beyond ``clip_sigma`` robust sigma (flares; ``clip_pad_days`` either side) are clipped and
    the trend fitted again, ``clip_iters`` times at most; dips are never clipped.

    Parameters
    ----------
    time, flux : array_like, shape (n,)
        Sorted finite times (days) and fluxes.
    window_days : float
        Full biweight window, days.
    bounds : ndarray of int, optional
        Segment bounds (``cleaning.segment_bounds``); windows never cross a segment boundary.
    mask : ndarray of bool, shape (n,), optional
        Cadences to keep out of the trend (known or found transits).

    Returns
    -------
    SearchTrend
    """
    t, f = as_series(time, flux)
    if not window_days > 0:
        raise InvalidInput("window_days must be positive")
    b = segment_bounds(t) if bounds is None else np.asarray(bounds, dtype=np.int64)
    keep_out = np.zeros(t.size, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    flares = np.zeros(t.size, dtype=bool)
    step = float(np.median(np.diff(t))) if t.size > 1 else 1.0
    pad = max(1, int(round(clip_pad_days / step))) if step > 0 else 1
    for it in range(clip_iters + 1):
        out = keep_out | flares
        # flares (minutes long) are bridged in the flux, masked transits left out of the fit
        filled = interpolate_masked(t, f, flares & ~keep_out, b)[0] if flares.any() else f
        trend = _trend_without(t, filled, ~keep_out, b, window_days, twice)
        if it == clip_iters or not clip_sigma > 0:
            break
        resid = f / trend - 1.0
        ok = ~out & np.isfinite(resid)
        if ok.sum() < 10:
            break
        med = float(np.median(resid[ok]))
        sigma = 1.4826 * float(np.median(np.abs(resid[ok] - med)))
        new = _dilate((resid - med > clip_sigma * sigma) & ~keep_out, pad) & ~keep_out
        if not (new & ~flares).any():
            break
        flares |= new
    return SearchTrend(trend, flares, float(window_days))
