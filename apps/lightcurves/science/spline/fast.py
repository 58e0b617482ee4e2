"""The fast path of the AstroNet-style B-spline detrender (:mod:`.obvious` has the contract).

``choose_spline`` fits every segment for every candidate spacing with ``spline_segment``, which
walks the points knot interval by knot interval, so the basis is computed without per-point
interval lookups in loops the compiler vectorises; it refits after clipping by adding and
subtracting only the points whose mask changed, and takes the clipping medians from short
bracketed lists (``select.median_sampled``). Each kernel here has an obvious twin in
:mod:`.obvious` and a test against it.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .basis import add_point, interval, solve_banded
from .select import WORK, median_sampled

FASTMATH = {"reassoc", "contract", "arcp", "nsz"}
"""Reordered sums and fused multiply-adds (vectorised loops); NaN and inf semantics are kept."""


@njit(cache=True)
def interval_starts(x, x0, inv_h, nb, ptr):
    """ptr[j] = first point of knot interval j (0..nb-2, as ``basis.interval`` assigns them) and
    ptr[nb - 1] = n, for ascending x; by bisection, since x is sorted."""
    n = x.shape[0]
    ptr[0] = 0
    for j in range(1, nb - 1):
        a = ptr[j - 1]
        b = n
        while a < b:  # first k with interval(x[k]) >= j
            m = (a + b) // 2
            if interval(x[m], x0, inv_h, nb)[0] >= j:
                b = m
            else:
                a = m + 1
        ptr[j] = a
    ptr[nb - 1] = n


@njit(cache=True, fastmath=FASTMATH)
def assemble_intervals(x, y, keep, x0, inv_h, ptr, band, rhs):
    """assemble_normal (zeroing band and rhs first), walking knot intervals; returns how many."""
    band[:] = 0.0
    rhs[:] = 0.0
    nused = 0
    for j in range(ptr.shape[0] - 1):
        a00 = a01 = a02 = a03 = a11 = a12 = a13 = a22 = a23 = a33 = 0.0
        r0 = r1 = r2 = r3 = 0.0
        cnt = 0
        a, e = ptr[j], ptr[j + 1]
        xs, ys, ks = x[a:e], y[a:e], keep[a:e]  # views from 0 vectorise (see eval_intervals)
        for k in range(e - a):
            w = 1.0 if ks[k] else 0.0
            cnt += ks[k]
            u = (xs[k] - x0) * inv_h - j
            v = 1.0 - u
            u2 = u * u
            u3 = u2 * u
            b0 = v * v * v / 6.0
            b1 = (3.0 * u3 - 6.0 * u2 + 4.0) / 6.0
            b2 = (-3.0 * u3 + 3.0 * u2 + 3.0 * u + 1.0) / 6.0
            b3 = u3 / 6.0
            w0 = w * b0
            w1 = w * b1
            w2 = w * b2
            w3 = w * b3
            yk = ys[k]
            r0 += w0 * yk
            r1 += w1 * yk
            r2 += w2 * yk
            r3 += w3 * yk
            a00 += w0 * b0
            a01 += w0 * b1
            a02 += w0 * b2
            a03 += w0 * b3
            a11 += w1 * b1
            a12 += w1 * b2
            a13 += w1 * b3
            a22 += w2 * b2
            a23 += w2 * b3
            a33 += w3 * b3
        nused += cnt
        band[j, 0] += a00
        band[j, 1] += a01
        band[j, 2] += a02
        band[j, 3] += a03
        band[j + 1, 0] += a11
        band[j + 1, 1] += a12
        band[j + 1, 2] += a13
        band[j + 2, 0] += a22
        band[j + 2, 1] += a23
        band[j + 3, 0] += a33
        rhs[j] += r0
        rhs[j + 1] += r1
        rhs[j + 2] += r2
        rhs[j + 3] += r3
    return nused


@njit(cache=True, fastmath=FASTMATH)
def eval_intervals(x, y, coef, x0, inv_h, ptr, spline, resid):
    """spline = the spline at x (eval_uniform_bspline), resid = y - spline."""
    for j in range(ptr.shape[0] - 1):
        c0 = coef[j] / 6.0
        c1 = coef[j + 1] / 6.0
        c2 = coef[j + 2] / 6.0
        c3 = coef[j + 3] / 6.0
        a, e = ptr[j], ptr[j + 1]
        # per-interval views indexed from 0: numba then drops its negative-index wraparound
        # and the loop vectorises
        xs, ys, ss, rs = x[a:e], y[a:e], spline[a:e], resid[a:e]
        for k in range(e - a):
            u = (xs[k] - x0) * inv_h - j
            v = 1.0 - u
            u2 = u * u
            u3 = u2 * u
            s = (
                c0 * (v * v * v)
                + c1 * (3.0 * u3 - 6.0 * u2 + 4.0)
                + c2 * (-3.0 * u3 + 3.0 * u2 + 3.0 * u + 1.0)
                + c3 * u3
            )
            ss[k] = s
            rs[k] = ys[k] - s


@njit(cache=True)
def update_changed(x, y, keep, changed, nchanged, x0, inv_h, nb, band, rhs):
    """Add to the normal equations the listed points now kept, subtract those now dropped.

    Returns the change in the number of points used (update_normal for a list of indices).
    """
    dn = 0
    for c in range(nchanged):
        k = changed[c]
        w = 1.0 if keep[k] else -1.0
        dn += 1 if keep[k] else -1
        add_point(x[k], y[k], w, x0, inv_h, nb, band, rhs)
    return dn


@njit(cache=True, fastmath=FASTMATH)
def _abs_dev(resid, med, dev):
    for k in range(resid.shape[0]):
        dev[k] = abs(resid[k] - med)


@njit(cache=True, fastmath=FASTMATH)
def _trimmed_std(resid, dev, lim):
    """(count, std) of the residuals with dev <= lim (NaN std when none)."""
    cnt = 0
    s1 = 0.0
    for k in range(resid.shape[0]):
        inside = dev[k] <= lim
        cnt += inside
        s1 += resid[k] if inside else 0.0
    if cnt == 0:
        return 0, np.nan
    mean = s1 / cnt
    s2 = 0.0
    for k in range(resid.shape[0]):
        r = resid[k] - mean
        s2 += r * r if dev[k] <= lim else 0.0
    return cnt, np.sqrt(s2 / cnt)


@njit(cache=True)
def _new_mask(dev, lim, keep, changed):
    """keep = dev <= lim, listing the indices that changed; returns how many.

    Few points change per pass, so a counting loop (vectorised) comes first and the indices
    are collected only where a changed point was seen, by a well-predicted branch.
    """
    n = dev.shape[0]
    m = 0
    for k in range(n):
        m += (dev[k] <= lim) != keep[k]
    if m == 0:
        return 0
    m = 0
    for k in range(n):
        new = dev[k] <= lim
        if new != keep[k]:
            changed[m] = k
            m += 1
            keep[k] = new
    return m


@njit(cache=True)
def robust_clip(resid, cut, keep, dev, buf, work, changed):
    """robust_keep, fast: writes the new mask and lists the changed indices; returns how many.

    dev, buf: (n,) and work: (select.WORK,) workspace; changed: (n,) int64.
    """
    n = resid.shape[0]
    med = median_sampled(resid, buf, work)
    _abs_dev(resid, med, dev)
    sigma = 1.4826 * median_sampled(dev, buf, work)
    if sigma < 1.0e-24:
        total = 0.0
        for k in range(n):
            total += dev[k]
        sigma = 1.253 * total / n
    scale = max(cut, 1.0)
    corr = -0.15405 + 0.90723 * scale - 0.23584 * scale**2 + 0.020142 * scale**3
    # robust_mean's returned mask uses the first trimmed sigma (its second one only sets errors).
    _, sigma = _trimmed_std(resid, dev, cut * sigma)
    if scale <= 4.5:
        sigma /= corr
    return _new_mask(dev, cut * sigma, keep, changed)


@njit(cache=True, fastmath=FASTMATH)
def _masked_ssr(resid, keep):
    """(number kept, sum of squared residuals of the kept points)."""
    cnt = 0
    ssr = 0.0
    for k in range(resid.shape[0]):
        cnt += keep[k]
        ssr += resid[k] * resid[k] if keep[k] else 0.0
    return cnt, ssr


@njit(cache=True)
def _kept_range(keep):
    """Indices of the first and last kept points (keep has at least one True)."""
    a = 0
    while not keep[a]:
        a += 1
    e = keep.shape[0] - 1
    while not keep[e]:
        e -= 1
    return a, e


@njit(cache=True)
def spline_segment(x, f, bks, maxiter, cut, spline, keep, resid, dev, buf, changed, work):
    """AstroNet's ``kepler_spline`` on one segment, in place.

    x: (n,) ascending times rescaled to [0, 1]; f: (n,) fluxes; bks: spacing in those units.
    Writes the spline and the final fit mask into spline and keep, the last residuals into
    resid; dev, buf: (n,) and changed: (n,) int64 are workspace. Returns 0 on success, 1 if
    fewer than 4 points are usable (the segment is skipped), 2 if the fit is singular for
    this spacing (the spacing is skipped).
    """
    n = x.shape[0]
    if n < 4:
        return 1
    keep[:] = True
    nkeep = n
    first, last = 0, n - 1
    # Normal equations of the last fit and the knots they belong to: a clipping pass that
    # keeps the same knots only adds/subtracts the points whose mask changed.
    band = np.zeros((1, 4))
    rhs = np.zeros(1)
    ptr = np.zeros(1, dtype=np.int64)
    chol = np.zeros((1, 4))
    z = np.zeros(1)
    coef = np.zeros(1)
    flo = fhi = np.nan
    fnb = -1
    nchanged = 0
    for it in range(maxiter):
        if it > 0:
            nchanged = robust_clip(resid, cut, keep, dev, buf, work, changed)
            if nchanged == 0:
                break
            for c in range(nchanged):
                nkeep += 1 if keep[changed[c]] else -1
            if nkeep < 4:
                return 1
            first, last = _kept_range(keep)
        lo = x[first]
        hi = x[last]
        nb = max(int((hi - lo) / bks) + 1, 2)
        h = (hi - lo) / (nb - 1)
        if not h > 0.0:
            return 2
        inv_h = 1.0 / h
        if it > 0 and lo == flo and hi == fhi and nb == fnb:
            update_changed(x, f, keep, changed, nchanged, lo, inv_h, nb, band, rhs)
        else:
            if nb != fnb:
                band = np.empty((nb + 2, 4))
                rhs = np.empty(nb + 2)
                ptr = np.empty(nb, dtype=np.int64)
                chol = np.empty((nb + 2, 4))
                z = np.empty(nb + 2)
                coef = np.empty(nb + 2)
            interval_starts(x, lo, inv_h, nb, ptr)
            assemble_intervals(x, f, keep, lo, inv_h, ptr, band, rhs)
            flo, fhi, fnb = lo, hi, nb
        if not solve_banded(band, rhs, nkeep, chol, z, coef):
            return 2
        eval_intervals(x, f, coef, lo, inv_h, ptr, spline, resid)
    return 0


@njit(cache=True)
def _sigma_floor(flux):
    """Noise to assume when the point-to-point scatter is zero (a constant or quantised series).

    AstroNet's BIC divides by it; a tiny floor relative to the data scale keeps the likelihood
    finite and lets the complexity penalty pick the simplest spline.
    """
    scale = 1.0
    for k in range(flux.shape[0]):
        if abs(flux[k]) > scale:
            scale = abs(flux[k])
    return 1e-9 * scale


@njit(cache=True)
def _diff_sigma(flux, bounds):
    """AstroNet's BIC noise: 1.48 * median |diff(flux)| / sqrt(2) within segments (0 if none)."""
    nseg = bounds.shape[0] - 1
    sabs = np.empty(max(flux.shape[0] - nseg, 0))
    nd = 0
    for s in range(nseg):
        for k in range(bounds[s], bounds[s + 1] - 1):
            sabs[nd] = abs(flux[k + 1] - flux[k]) / np.sqrt(2.0)
            nd += 1
    if nd == 0:
        return -1.0
    return median_sampled(sabs[:nd], np.empty(nd), np.empty(WORK)) * 1.48


@njit(cache=True)
def _rescale(time, bounds, x):
    """x = (t - t_min) / (t_max - t_min) per segment (kepler_spline's [0, 1] time)."""
    for s in range(bounds.shape[0] - 1):
        a, e = bounds[s], bounds[s + 1]
        span = time[e - 1] - time[a]
        if not span > 0.0:  # a one-cadence segment: never fitted (choose_spline skips it)
            for k in range(a, e):
                x[k] = 0.0
            continue
        for k in range(a, e):
            x[k] = (time[k] - time[a]) / span


@njit(cache=True)
def _fit_spacing(time, flux, x, bounds, bk, maxiter, cut, ws):
    """Fit every segment at spacing ``bk`` into the workspace ``ws`` (spline, keep, resid,
    dev, buf, changed, work; see ``spline_segment``); return (parameters, points, sum of
    squared residuals) of the fitted segments, points -1 when the spacing is singular."""
    spline, keep, resid, dev, buf, changed, work = ws
    nparams = 0
    npoints = 0
    ssr = 0.0
    for s in range(bounds.shape[0] - 1):
        a, e = bounds[s], bounds[s + 1]
        span = time[e - 1] - time[a]
        status = 1
        if e - a >= 4 and span > 0.0:
            status = spline_segment(
                x[a:e], flux[a:e], bk / span, maxiter, cut, spline[a:e], keep[a:e],
                resid[a:e], dev[a:e], buf[a:e], changed[: e - a], work,
            )  # fmt: skip
        if status == 2:
            return nparams, -1, ssr
        if status == 1:
            for k in range(a, e):
                spline[k] = np.nan
                keep[k] = False
            continue
        nparams += int((time[e - 1] - time[a]) / bk) + 1 + 3 - 1
        n_s, ssr_s = _masked_ssr(resid[a:e], keep[a:e])
        npoints += n_s
        ssr += ssr_s
    return nparams, npoints, ssr


@njit(cache=True)
def choose_spline(
    time, flux, bounds, bkspaces, maxiter, cut, penalty_coeff, spline_out, keep_out, bic_out
):
    """Fit every segment for every spacing and keep the spacing with the lowest BIC.

    bounds: (nseg + 1,) segment start indices. Writes the best spline (NaN in skipped segments)
    and fit mask into spline_out / keep_out, the BIC of every spacing into bic_out (inf when the
    spacing failed). Returns the index of the chosen spacing, or -1 if none worked.
    """
    n = time.shape[0]
    best = -1
    for k in range(n):
        spline_out[k] = np.nan
        keep_out[k] = False
    sigma = _diff_sigma(flux, bounds)
    if sigma < 0.0:
        return best
    if not sigma > 0.0:
        sigma = _sigma_floor(flux)
    x = np.empty(n)
    _rescale(time, bounds, x)
    ws = (
        np.empty(n), np.zeros(n, dtype=np.bool_), np.empty(n), np.empty(n), np.empty(n),
        np.empty(n, dtype=np.int64), np.empty(WORK),
    )  # fmt: skip
    for b in range(bkspaces.shape[0]):
        bic_out[b] = np.inf
        nparams, npoints, ssr = _fit_spacing(time, flux, x, bounds, bkspaces[b], maxiter, cut, ws)
        if npoints <= 0:
            continue
        like = npoints * np.log(2.0 * np.pi * sigma * sigma) + ssr / (sigma * sigma)
        bic = like + penalty_coeff * nparams * np.log(npoints)
        bic_out[b] = bic
        if best < 0 or bic < bic_out[best]:
            best = b
            spline_out[:] = ws[0]
            keep_out[:] = ws[1]
    return best
