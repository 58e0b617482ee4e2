"""AstroNet's BIC-chosen piecewise B-spline trend, the public face of the spline package.

``fit_spline`` restates ``third_party/kepler_spline/kepler_spline.py`` of google-research's
exoplanet-ml: per segment a cubic B-spline with knot spacing chosen by BIC among 20 log-spaced
values from 0.5 to 20 days, refitted up to 5 times on the points robust_mean keeps at 3 sigma.
The flattened series is ``flux / trend``. The work is done by :func:`.fast.choose_spline`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..cleaning import GAP_DAYS, as_series, interpolate_masked, segment_bounds
from ..errors import InvalidInput
from . import fast

BKSPACES = np.logspace(np.log10(0.5), np.log10(20.0), 20)
"""Candidate break-point spacings, days (AstroNet's ``fit_kepler_spline`` defaults)."""


@dataclass(frozen=True, eq=False)
class SplineFit:
    """Result of :func:`fit_spline`.

    Attributes
    ----------
    trend : ndarray, shape (n,)
        Spline value at every cadence, flux units; NaN in segments that could not be fitted.
    fit_mask : ndarray of bool, shape (n,)
        Cadences used by the final fit (outliers and skipped segments are False).
    bkspace : float
        Chosen break-point spacing, days (NaN when no spacing worked).
    bic : ndarray, shape (n_bkspaces,)
        BIC of every candidate spacing (inf where the spacing failed).
    """

    trend: np.ndarray
    fit_mask: np.ndarray
    bkspace: float
    bic: np.ndarray


def fit_spline(
    time: object,
    flux: object,
    *,
    bounds: np.ndarray | None = None,
    gap: float = GAP_DAYS,
    bkspaces: np.ndarray = BKSPACES,
    maxiter: int = 5,
    sigma_cut: float = 3.0,
    penalty_coeff: float = 1.0,
    transit_mask: np.ndarray | None = None,
) -> SplineFit:
    """Fit AstroNet's piecewise B-spline trend, choosing the knot spacing by BIC.

    Parameters
    ----------
    time, flux : array_like, shape (n,)
        Sorted finite times (days) and fluxes.
    bounds : ndarray of int, optional
        Segment start indices plus n (see ``cleaning.segment_bounds``); by default the series
        is split at gaps longer than ``gap`` days.
    bkspaces : ndarray
        Candidate spacings, days; the one with the lowest BIC is used for every segment.
    maxiter, sigma_cut : int, float
        Up to ``maxiter`` fits per segment, refitting on points within ``sigma_cut`` robust sigma.
    penalty_coeff : float
        Weight of the BIC's parameter penalty (larger favours stiffer splines).
    transit_mask : ndarray of bool, shape (n,), optional
        Cadences to keep out of the fit (known transits): they are replaced by linear
        interpolation before fitting, so deep transits do not bend the trend.

    Returns
    -------
    SplineFit

    Raises
    ------
    InvalidInput
        Bad arrays or options.
    """
    t, f = as_series(time, flux)
    spaces = _checked_spacings(bkspaces, maxiter, sigma_cut)
    b = segment_bounds(t, gap=gap) if bounds is None else np.asarray(bounds, dtype=np.int64)
    if b[0] != 0 or b[-1] != t.size or np.any(np.diff(b) <= 0):
        raise InvalidInput("bounds must rise strictly from 0 to len(time)")
    f, dead = _bridge_transits(t, f, transit_mask, b)
    trend = np.full(t.size, np.nan)
    keep = np.zeros(t.size, dtype=bool)
    bic = np.full(spaces.size, np.inf)
    live = ~dead
    if not live.any():
        return SplineFit(trend, keep, float("nan"), bic)
    tl, fl = t[live], f[live]
    bl = _compact_bounds(b, live)
    trend_l = np.empty(tl.size)
    keep_l = np.zeros(tl.size, dtype=np.bool_)
    best = fast.choose_spline(
        tl, fl, bl, spaces, maxiter, sigma_cut, penalty_coeff, trend_l, keep_l, bic
    )
    trend[live] = trend_l
    keep[live] = keep_l
    return SplineFit(trend, keep, float(spaces[best]) if best >= 0 else float("nan"), bic)


def _checked_spacings(bkspaces: np.ndarray, maxiter: int, sigma_cut: float) -> np.ndarray:
    """The candidate spacings as a contiguous float64 array, once the fit options are checked."""
    if maxiter < 1 or not sigma_cut > 0:
        raise InvalidInput("maxiter must be >= 1 and sigma_cut > 0")
    spaces = np.ascontiguousarray(np.asarray(bkspaces, dtype=np.float64))
    if spaces.ndim != 1 or spaces.size == 0 or not np.all(spaces > 0):
        raise InvalidInput("bkspaces must be a non-empty 1-D array of positive spacings")
    return spaces


def _bridge_transits(
    t: np.ndarray, f: np.ndarray, transit_mask: np.ndarray | None, bounds: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(flux with the masked cadences interpolated across, cadences of wholly masked segments)."""
    if transit_mask is None:
        return f, np.zeros(t.size, dtype=bool)
    m = np.asarray(transit_mask, dtype=bool)
    if m.shape != t.shape:
        raise InvalidInput("transit_mask must have the shape of time")
    return interpolate_masked(t, f, m, bounds)


def _compact_bounds(bounds: np.ndarray, live: np.ndarray) -> np.ndarray:
    """Segment bounds of the live cadences (segments are dropped whole, never split)."""
    sizes = [int(live[a:b].sum()) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    return np.concatenate(([0], np.cumsum([s for s in sizes if s > 0]))).astype(np.int64)
