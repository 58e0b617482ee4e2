"""numba kernels of the AstroNet-style B-spline detrender (see ``detrend.py`` for the contract).

Knots follow pydl's ``bspline(bkspace=...)`` as used by AstroNet's ``kepler_spline``: on time
rescaled to [0, 1], ``nb = int(range / bkspace) + 1`` uniformly spaced breakpoints spanning the
fitted points, extended by three more on each side with the same spacing (so cubic pieces
extrapolate beyond the ends). The fit is an unweighted least-squares fit of the
``nb + 2`` coefficients; the 4-band normal equations are solved by a banded Cholesky.

These are the obvious kernels: ``assemble_normal``, ``update_normal``, ``eval_uniform_bspline``
and ``robust_keep`` work point by point, and the tests hold the fast path (``_spline_fast``) to
them; ``solve_banded`` and ``basis4`` are shared by both.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._select import median_inplace


@njit(cache=True)
def basis4(u: float) -> tuple:
    """The four non-zero uniform cubic B-spline values at fractional position u in an interval."""
    v = 1.0 - u
    u2 = u * u
    u3 = u2 * u
    return (
        v * v * v / 6.0,
        (3.0 * u3 - 6.0 * u2 + 4.0) / 6.0,
        (-3.0 * u3 + 3.0 * u2 + 3.0 * u + 1.0) / 6.0,
        u3 / 6.0,
    )


@njit(cache=True)
def _interval(x: float, x0: float, inv_h: float, nb: int) -> tuple:
    """Interval index (clipped so the end pieces extrapolate) and fractional position in it."""
    s = (x - x0) * inv_h
    i = int(s) if s > 0.0 else 0  # truncation is floor for s >= 0
    if s < 0.0:
        i = 0
    if i > nb - 2:
        i = nb - 2
    return i, s - i


@njit(cache=True)
def assemble_normal(x, y, keep, x0, h, nb, band, rhs):
    """Add the normal equations of the points where keep into band / rhs; return how many.

    band: (nb + 2, 4) with band[j, d] = N[j, j + d]; rhs: (nb + 2,). Both are added to, so the
    caller zeroes them first.
    """
    inv_h = 1.0 / h
    nused = 0
    # Points arrive sorted, so the interval changes rarely: accumulate its 4x4 block and 4
    # right-hand sides in locals and add them to the band when the interval changes.
    cur = -1
    a00 = a01 = a02 = a03 = a11 = a12 = a13 = a22 = a23 = a33 = 0.0
    r0 = r1 = r2 = r3 = 0.0
    for k in range(x.shape[0] + 1):
        if k < x.shape[0]:
            if not keep[k]:
                continue
            i, u = _interval(x[k], x0, inv_h, nb)
        else:
            i, u = -2, 0.0  # sentinel: flush the last block
        if i != cur:
            if cur >= 0:
                band[cur, 0] += a00
                band[cur, 1] += a01
                band[cur, 2] += a02
                band[cur, 3] += a03
                band[cur + 1, 0] += a11
                band[cur + 1, 1] += a12
                band[cur + 1, 2] += a13
                band[cur + 2, 0] += a22
                band[cur + 2, 1] += a23
                band[cur + 3, 0] += a33
                rhs[cur] += r0
                rhs[cur + 1] += r1
                rhs[cur + 2] += r2
                rhs[cur + 3] += r3
            if i == -2:
                break
            cur = i
            a00 = a01 = a02 = a03 = a11 = a12 = a13 = a22 = a23 = a33 = 0.0
            r0 = r1 = r2 = r3 = 0.0
        nused += 1
        b0, b1, b2, b3 = basis4(u)
        yk = y[k]
        r0 += b0 * yk
        r1 += b1 * yk
        r2 += b2 * yk
        r3 += b3 * yk
        a00 += b0 * b0
        a01 += b0 * b1
        a02 += b0 * b2
        a03 += b0 * b3
        a11 += b1 * b1
        a12 += b1 * b2
        a13 += b1 * b3
        a22 += b2 * b2
        a23 += b2 * b3
        a33 += b3 * b3
    return nused


@njit(cache=True)
def update_normal(x, y, old, new, x0, h, nb, band, rhs):
    """Turn the normal equations of the points in old into those of the points in new.

    Only points whose mask differs are touched (added or subtracted), so a sigma-clipping pass
    that drops a few outliers costs one scan of the masks instead of a full reassembly.
    Returns the change in the number of points used.
    """
    inv_h = 1.0 / h
    dn = 0
    for k in range(x.shape[0]):
        if old[k] == new[k]:
            continue
        w = 1.0 if new[k] else -1.0
        dn += 1 if new[k] else -1
        i, u = _interval(x[k], x0, inv_h, nb)
        b = basis4(u)
        yk = w * y[k]
        for p in range(4):
            rhs[i + p] += b[p] * yk
            bp = w * b[p]
            for q in range(p, 4):
                band[i + p, q - p] += bp * b[q]
    return dn


@njit(cache=True)
def solve_banded(band, rhs, nused, chol, z, coef):
    """Solve the banded normal equations by a banded Cholesky into coef; return ok.

    band: (nc, 4) with band[j, d] = N[j, j + d], left intact; chol, z: (nc, 4) and (nc,)
    workspace. ok is False when the matrix is singular (a coefficient with no data under it),
    which pydl reports as a bad breakpoint.
    """
    nc = rhs.shape[0]
    # Banded Cholesky N = L L^T: chol[j, d] = L[j + d, j].
    tiny = 1e-10 * nused / nc
    for j in range(nc):
        diag = band[j, 0]
        for m in range(1, min(j, 3) + 1):
            diag -= chol[j - m, m] * chol[j - m, m]
        if not diag > tiny:
            return False
        ljj = np.sqrt(diag)
        chol[j, 0] = ljj
        for d in range(1, min(nc - j, 4)):
            val = band[j, d]
            for m in range(1, min(j, 3 - d) + 1):
                val -= chol[j - m, m + d] * chol[j - m, m]
            chol[j, d] = val / ljj
    for j in range(nc):
        val = rhs[j]
        for m in range(1, min(j, 3) + 1):
            val -= chol[j - m, m] * z[j - m]
        z[j] = val / chol[j, 0]
    for j in range(nc - 1, -1, -1):
        val = z[j]
        for d in range(1, min(nc - j, 4)):
            val -= chol[j, d] * coef[j + d]
        coef[j] = val / chol[j, 0]
    return True


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
        i, u = _interval(x[k], x0, inv_h, nb)
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
