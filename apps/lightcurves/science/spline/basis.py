"""What both spline paths share: knot layout, the cubic basis, normal-equation updates, the solver.

Knots follow pydl's ``bspline(bkspace=...)`` as used by AstroNet's ``kepler_spline``: on time
rescaled to [0, 1], ``nb = int(range / bkspace) + 1`` uniformly spaced breakpoints spanning the
fitted points, extended by three more on each side with the same spacing (so cubic pieces
extrapolate beyond the ends). The fit is an unweighted least-squares fit of the ``nb + 2``
coefficients; the 4-band normal equations (``band[j, d] = N[j, j + d]``) are solved by a banded
Cholesky. The obvious kernels (:mod:`.obvious`) and the fast ones (:mod:`.fast`) both build on
these, so the two paths can differ only in how they walk the points.
"""

from __future__ import annotations

import numpy as np
from numba import njit


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
def interval(x: float, x0: float, inv_h: float, nb: int) -> tuple:
    """Interval index (clipped so the end pieces extrapolate) and fractional position in it."""
    s = (x - x0) * inv_h
    i = int(s) if s > 0.0 else 0  # truncation is floor for s >= 0
    if s < 0.0:
        i = 0
    if i > nb - 2:
        i = nb - 2
    return i, s - i


@njit(cache=True)
def add_point(x, y, w, x0, inv_h, nb, band, rhs):
    """Add ``w`` times one point's terms to the normal equations (w = -1 takes them out)."""
    i, u = interval(x, x0, inv_h, nb)
    b = basis4(u)
    yk = w * y
    for p in range(4):
        rhs[i + p] += b[p] * yk
        bp = w * b[p]
        for q in range(p, 4):
            band[i + p, q - p] += bp * b[q]


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
