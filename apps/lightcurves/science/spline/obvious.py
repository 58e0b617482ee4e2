"""The obvious spline kernels: point by point, the contract the fast path (:mod:`.fast`) is held to.

``assemble_normal``, ``update_normal``, ``eval_uniform_bspline`` and ``robust_keep`` walk the
points one at a time with no workspace tricks; the tests compare every fast kernel with its twin
here, and these with scipy (:mod:`.reference`). Production code calls only :mod:`.fast`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .basis import add_point, basis4, interval, solve_banded
from .select import median_inplace


@njit(cache=True)
def assemble_normal(x, y, keep, x0, h, nb, band, rhs):
    """Add the normal equations of the points where keep into band / rhs; return how many.

    band: (nb + 2, 4) with band[j, d] = N[j, j + d]; rhs: (nb + 2,). Both are added to, so the
    caller zeroes them first.
    """
    inv_h = 1.0 / h
    nused = 0
    for k in range(x.shape[0]):
        if keep[k]:
            add_point(x[k], y[k], 1.0, x0, inv_h, nb, band, rhs)
            nused += 1
    return nused


@njit(cache=True)
def update_normal(x, y, old, new, x0, h, nb, band, rhs):
    """Turn the normal equations of the points in old into those of the points in new.

    Only points whose mask differs are touched (added or subtracted). Returns the change in the
    number of points used.
    """
    inv_h = 1.0 / h
    dn = 0
    for k in range(x.shape[0]):
        if old[k] != new[k]:
            w = 1.0 if new[k] else -1.0
            add_point(x[k], y[k], w, x0, inv_h, nb, band, rhs)
            dn += 1 if new[k] else -1
    return dn


@njit(cache=True)
def solve_normal(band, rhs, nused):
    """solve_banded with its own workspace: returns (coef (nc,), ok)."""
    nc = rhs.shape[0]
    coef = np.empty(nc)
    ok = solve_banded(band, rhs, nused, np.empty((nc, 4)), np.empty(nc), coef)
    return coef, ok


@njit(cache=True)
def fit_uniform_bspline(x, y, keep, x0, h, nb):
    """Least-squares cubic B-spline coefficients on uniform knots, using the points where keep.

    x, y: (n,) float64; keep: (n,) bool; x0, h: first breakpoint and spacing; nb >= 2
    breakpoints. Returns (coef (nb + 2,), ok). ok is False when the normal matrix is singular
    (a coefficient with no data under it), which pydl reports as a bad breakpoint.
    """
    nc = nb + 2
    band = np.zeros((nc, 4))  # band[j, d] = N[j, j + d]
    rhs = np.zeros(nc)
    nused = assemble_normal(x, y, keep, x0, h, nb, band, rhs)
    return solve_normal(band, rhs, nused)


@njit(cache=True)
def eval_uniform_bspline(x, coef, x0, h, nb, out):
    """Evaluate the spline at x (any order) into out; ends extrapolate their cubic piece."""
    inv_h = 1.0 / h
    for k in range(x.shape[0]):
        i, u = interval(x[k], x0, inv_h, nb)
        b0, b1, b2, b3 = basis4(u)
        out[k] = b0 * coef[i] + b1 * coef[i + 1] + b2 * coef[i + 2] + b3 * coef[i + 3]


@njit(cache=True)
def robust_keep(resid, cut, keep, scratch):
    """AstroNet's robust_mean mask: |r - median| <= cut * sigma with one trimmed refinement.

    Writes the new mask into keep and returns whether it changed; scratch is (n,) workspace.
    """
    n = resid.shape[0]
    scratch[:] = resid
    med = median_inplace(scratch)
    for k in range(n):
        scratch[k] = abs(resid[k] - med)
    sigma = 1.4826 * median_inplace(scratch)
    if sigma < 1.0e-24:
        total = 0.0
        for k in range(n):
            total += abs(resid[k] - med)
        sigma = 1.253 * total / n
    scale = max(cut, 1.0)
    corr = -0.15405 + 0.90723 * scale - 0.23584 * scale**2 + 0.020142 * scale**3
    # robust_mean's returned mask uses the first trimmed sigma (its second one only sets errors).
    lim = cut * sigma
    cnt = 0
    s1 = 0.0
    for k in range(n):
        if abs(resid[k] - med) <= lim:
            cnt += 1
            s1 += resid[k]
    mean = s1 / cnt if cnt > 0 else np.nan
    s2 = 0.0
    for k in range(n):
        if abs(resid[k] - med) <= lim:
            s2 += (resid[k] - mean) ** 2
    sigma = np.sqrt(s2 / cnt) if cnt > 0 else np.nan
    if scale <= 4.5:
        sigma /= corr
    lim = cut * sigma
    changed = False
    for k in range(n):
        new = abs(resid[k] - med) <= lim
        if new != keep[k]:
            changed = True
        keep[k] = new
    return changed
