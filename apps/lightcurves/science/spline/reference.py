"""AstroNet's spline restated slowly with scipy: the check of both numba paths (tests, benchmark).

Re-states ``third_party/kepler_spline/kepler_spline.py`` and
``third_party/robust_mean/robust_mean.py`` of google-research/exoplanet-ml as its code does it,
with pydl's ``bspline.iterfit`` replaced by scipy: its knots (``int(range / bkspace) + 1``
uniform breakpoints over the fitted points, three more each side) and its single unweighted
least-squares fit per call (pydl's own 5-sigma rejection never triggers a refit, because its
loop tests ``qdone == -1``). Known difference: pydl built breakpoints in float32 under numpy
1.x; here they are float64.
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
        # Constant series: the same floor as the fast kernel (see fast._sigma_floor).
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
