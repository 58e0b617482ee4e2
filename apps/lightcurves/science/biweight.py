"""numba kernels of the sliding biweight detrenders (:mod:`.detrend` has their public face).

Two families: the biweight *location* of a sliding window (wotan's detrender), whose window is
kept sorted as it slides so medians cost no selection, and the biweight robust *line* of a
window (the search's detrender). ``reference.biweight_trend`` and
``reference.biweight_line_trend`` are their slow, obvious twins in the tests.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True)
def sorted_insert(buf, n, v):
    """Insert v into the sorted prefix buf[:n] (shifting the tail right); returns n + 1."""
    j = n
    while j > 0 and buf[j - 1] > v:  # windows are short: a backward shift beats bisection
        buf[j] = buf[j - 1]
        j -= 1
    buf[j] = v
    return n + 1


@njit(cache=True)
def sorted_remove(buf, n, v):
    """Remove one copy of v (present) from the sorted prefix buf[:n]; returns n - 1."""
    j = np.searchsorted(buf[:n], v)
    for k in range(j, n - 1):
        buf[k] = buf[k + 1]
    return n - 1


@njit(cache=True)
def sorted_replace(buf, n, old, new):
    """Replace one copy of old (present) by new in the sorted prefix buf[:n].

    Only the values between old and new move, one place, into the hole old leaves: about a
    third of a removal followed by an insertion.
    """
    j = np.searchsorted(buf[:n], old)
    if new >= old:
        while j + 1 < n and buf[j + 1] < new:
            buf[j] = buf[j + 1]
            j += 1
    else:
        while j > 0 and buf[j - 1] > new:
            buf[j] = buf[j - 1]
            j -= 1
    buf[j] = new


@njit(cache=True)
def sorted_median(s):
    """np.median of the sorted array s (n >= 1)."""
    n = s.shape[0]
    if n % 2 == 1:
        return s[n // 2]
    return 0.5 * (s[n // 2 - 1] + s[n // 2])


@njit(cache=True)
def sorted_mad(s, med):
    """np.median(|s - med|) for sorted s, by merging the distances below and above med.

    Distances grow outwards from the split point on both sides, so the k-th smallest comes
    from a two-pointer walk of n // 2 + 1 steps (no sort, no allocation). The walk is
    branch-free: which side advances depends on the data, so a branch would be mispredicted
    about every other step.
    """
    n = s.shape[0]
    right = np.searchsorted(s, med)
    left = right - 1
    k = n // 2
    prev = 0.0
    cur = 0.0
    for _ in range(k + 1):
        prev = cur
        dl = med - s[max(left, 0)] if left >= 0 else np.inf
        dr = s[min(right, n - 1)] - med if right < n else np.inf
        take = dl <= dr
        cur = dl if take else dr
        left -= take
        right += 1 - take
    if n % 2 == 1:
        return cur
    return 0.5 * (prev + cur)


@njit(cache=True, fastmath={"reassoc", "nsz", "arcp", "contract"})
def biweight_location(x, med, mad, cval, maxiter, ftol):
    """Tukey biweight location of x from its median and MAD (the scale stays fixed, as in wotan).

    Iteratively reweighted mean with weights (1 - u**2)**2, u = (x - loc) / (cval * mad),
    starting at the median; stops after maxiter steps or when a step is below ftol.
    """
    loc = med
    if mad == 0.0:
        return loc
    inv = 1.0 / (cval * mad)
    for _ in range(maxiter):
        num = 0.0
        den = 0.0
        for k in range(x.shape[0]):  # branch-free so that it vectorises
            d = x[k] - loc
            u = d * inv
            v = max(1.0 - u * u, 0.0)  # weight (1 - u**2)**2 inside |u| < 1, else 0
            wk = v * v
            num += wk * d
            den += wk
        step = num / den
        loc += step
        if abs(step) < ftol:
            break
    return loc


@njit(cache=True, fastmath={"reassoc", "nsz", "arcp", "contract"})
def biweight_location_pair(x, la, ha, lb, hb, meda, mada, medb, madb, cval, maxiter, ftol):
    """biweight_location of x[la:ha] and of x[lb:hb] (neighbouring windows), iterated together.

    One loop over the union of the windows updates both sums, each masked to its window: two
    independent dependency chains per pass instead of one, which is what a loop this short is
    bound by. A window stops updating once converged, so each result is what biweight_location
    gives for it alone (up to the order of its sums).
    """
    loca = meda
    locb = medb
    inva = 1.0 / (cval * mada) if mada != 0.0 else 0.0
    invb = 1.0 / (cval * madb) if madb != 0.0 else 0.0
    busya = mada != 0.0
    busyb = madb != 0.0
    lo = min(la, lb)
    m = max(ha, hb) - lo
    xs = x[lo : lo + m]  # indexed from 0 so the loop vectorises
    la, ha, lb, hb = la - lo, ha - lo, lb - lo, hb - lo
    for _ in range(maxiter):
        if not (busya or busyb):
            break
        numa = dena = numb = denb = 0.0
        for k in range(m):
            v = xs[k]
            d = v - loca
            u = d * inva
            w = max(1.0 - u * u, 0.0)
            w = w * w if (k >= la) & (k < ha) else 0.0
            numa += w * d
            dena += w
            d = v - locb
            u = d * invb
            w = max(1.0 - u * u, 0.0)
            w = w * w if (k >= lb) & (k < hb) else 0.0
            numb += w * d
            denb += w
        if busya:
            step = numa / dena
            loca += step
            busya = not abs(step) < ftol
        if busyb:
            step = numb / denb
            locb += step
            busyb = not abs(step) < ftol
    return loca, locb


@njit(cache=True)
def biweight_run(time, flux, a, e, i0, i1, half_window, cval, maxiter, ftol, out):
    """Sliding biweight for points i0..i1-1 of the segment a..e (windows stay inside it).

    The window's values are kept sorted as it slides (one insertion or removal per point that
    enters or leaves), so the median and MAD cost no selection per point. The sorted window
    is exact whatever the run's start, so runs are independent of each other. Locations are
    iterated two points at a time (biweight_location_pair).
    """
    lo = a + np.searchsorted(time[a:e], time[i0] - half_window)
    hi = lo
    n = 0
    buf = np.empty(e - lo)
    held = -1  # a point whose window waits for the next one to be iterated with it
    hlo = hhi = 0
    hmed = hmad = 0.0
    for i in range(i0, i1):
        while hi < e and time[hi] <= time[i] + half_window and time[lo] < time[i] - half_window:
            sorted_replace(buf, n, flux[lo], flux[hi])  # one point leaves as one enters
            lo += 1
            hi += 1
        while time[lo] < time[i] - half_window:
            n = sorted_remove(buf, n, flux[lo])
            lo += 1
        while hi < e and time[hi] <= time[i] + half_window:
            n = sorted_insert(buf, n, flux[hi])
            hi += 1
        srt = buf[:n]
        med = sorted_median(srt)
        mad = sorted_mad(srt, med)
        if held < 0:
            held, hlo, hhi, hmed, hmad = i, lo, hi, med, mad
            continue
        out[held], out[i] = biweight_location_pair(
            flux, hlo, hhi, lo, hi, hmed, hmad, med, mad, cval, maxiter, ftol
        )
        held = -1
    if held >= 0:
        out[held] = biweight_location(flux[hlo:hhi], hmed, hmad, cval, maxiter, ftol)


@njit(cache=True)
def _runs(bounds, chunk):
    """(segment, first point) of every run of at most ``chunk`` points within a segment."""
    nseg = bounds.shape[0] - 1
    total = 0
    for s in range(nseg):
        total += (bounds[s + 1] - bounds[s] + chunk - 1) // chunk
    runs = np.empty((total, 2), dtype=np.int64)
    r = 0
    for s in range(nseg):
        for i0 in range(bounds[s], bounds[s + 1], chunk):
            runs[r, 0] = s
            runs[r, 1] = i0
            r += 1
    return runs


@njit(cache=True)
def biweight_kernel(time, flux, bounds, half_window, cval, maxiter, ftol, out, chunk=2048):
    """Sliding biweight: out[i] = biweight location of the segment's points within half_window.

    Each segment is cut into independent runs of ``chunk`` points (the result does not depend
    on ``chunk``); this is the one-thread path, ``biweight_kernel_parallel`` the threaded one.
    """
    runs = _runs(bounds, chunk)
    for r in range(runs.shape[0]):
        s, i0 = runs[r, 0], runs[r, 1]
        a, e = bounds[s], bounds[s + 1]
        biweight_run(
            time, flux, a, e, i0, min(i0 + chunk, e), half_window, cval, maxiter, ftol, out
        )


@njit(cache=True, parallel=True)
def biweight_kernel_parallel(time, flux, bounds, half_window, cval, maxiter, ftol, out, chunk=2048):
    """biweight_kernel with its runs shared among numba's threads (same result)."""
    runs = _runs(bounds, chunk)
    for r in prange(runs.shape[0]):
        s, i0 = runs[r, 0], runs[r, 1]
        a, e = bounds[s], bounds[s + 1]
        biweight_run(
            time, flux, a, e, i0, min(i0 + chunk, e), half_window, cval, maxiter, ftol, out
        )


@njit(cache=True)
def biweight_line_at(x, y, cval, maxiter, ftol):
    """Value at x = 0 of a Tukey-biweight robust line through (x, y).

    Start: Tukey's resistant line (slope through the medians of the outer thirds, intercept
    the median residual); scale: the MAD of its residuals, fixed; then iteratively reweighted
    least squares with weights (1 - u**2)**2, u = residual / (cval * MAD), until the
    intercept moves less than ftol or maxiter steps. A window with fewer than 3 points, or
    one time, gives its median.
    """
    n = x.shape[0]
    if n < 3 or x[n - 1] - x[0] <= 0.0:
        return np.median(y)
    k = max(1, n // 3)
    dx = np.median(x[n - k :]) - np.median(x[:k])
    b = (np.median(y[n - k :]) - np.median(y[:k])) / dx if dx > 0 else 0.0
    r = y - b * x
    a = np.median(r)
    r = r - a
    mad = np.median(np.abs(r - np.median(r)))
    if mad == 0.0:
        return a
    inv = 1.0 / (cval * mad)
    for _ in range(maxiter):
        sw = sx = sy = sxx = sxy = 0.0
        for j in range(n):
            u = (y[j] - a - b * x[j]) * inv
            v = max(1.0 - u * u, 0.0)
            w = v * v
            sw += w
            sx += w * x[j]
            sy += w * y[j]
            sxx += w * x[j] * x[j]
            sxy += w * x[j] * y[j]
        det = sw * sxx - sx * sx
        if sw <= 0.0 or det <= 1e-300 * max(1.0, sw * sxx):
            break
        a_new = (sxx * sy - sx * sxy) / det
        b = (sw * sxy - sx * sy) / det
        step = a_new - a
        a = a_new
        if abs(step) < ftol:
            break
    return a


@njit(cache=True)
def biweight_line_kernel(time, flux, bounds, half_window, cval, maxiter, ftol, stride, out):
    """Sliding robust line: out[i] = biweight_line_at of the segment's points within
    half_window of time[i], with x = time - time[i].

    Evaluated at every ``stride``-th point of each segment and at its last point, and
    interpolated linearly in time in between (the trend changes little over a small fraction
    of the window; ``stride`` 1 evaluates everywhere).
    """
    for s in range(bounds.shape[0] - 1):
        a, e = bounds[s], bounds[s + 1]
        lo = a
        hi = a
        prev = -1
        i = a
        while i < e:
            while time[lo] < time[i] - half_window:
                lo += 1
            while hi < e and time[hi] <= time[i] + half_window:
                hi += 1
            out[i] = biweight_line_at(time[lo:hi] - time[i], flux[lo:hi], cval, maxiter, ftol)
            if prev >= 0:
                span = time[i] - time[prev]
                for j in range(prev + 1, i):
                    frac = (time[j] - time[prev]) / span if span > 0 else 0.0
                    out[j] = out[prev] + frac * (out[i] - out[prev])
            prev = i
            if i == e - 1:
                break
            i = min(i + stride, e - 1)
