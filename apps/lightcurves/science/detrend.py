"""Detrending: AstroNet's BIC-chosen B-spline (optionally transit-masked) and a sliding biweight.

``fit_spline`` restates ``third_party/kepler_spline/kepler_spline.py`` of google-research's
exoplanet-ml: per segment a cubic B-spline with knot spacing chosen by BIC among 20 log-spaced
values from 0.5 to 20 days, refitted up to 5 times on the points robust_mean keeps at 3 sigma.
The flattened series is ``flux / trend``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from . import _spline_fast as kern
from .cleaning import GAP_DAYS, segment_bounds
from .errors import InsufficientData, InvalidInput

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


def as_series(time: object, flux: object) -> tuple[np.ndarray, np.ndarray]:
    """Validate a (time, flux) pair: 1-D, same length, finite, sorted; return float64 copies."""
    t = np.ascontiguousarray(np.asarray(time, dtype=np.float64))
    f = np.ascontiguousarray(np.asarray(flux, dtype=np.float64))
    if t.ndim != 1 or f.shape != t.shape:
        raise InvalidInput(
            f"time and flux must be 1-D arrays of one length, got {t.shape} and {f.shape}"
        )
    if t.size == 0:
        raise InsufficientData("empty light curve")
    if not (np.isfinite(t).all() and np.isfinite(f).all()):
        raise InvalidInput("time and flux must be finite: clean the light curve first")
    if np.any(np.diff(t) < 0):
        raise InvalidInput("time must be sorted in ascending order")
    return t, f


def interpolate_masked(
    time: np.ndarray, flux: np.ndarray, masked: np.ndarray, bounds: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Replace masked cadences by linear interpolation of the unmasked ones, per segment.

    This is the seed's way of keeping transits out of the spline: the spline then sees a smooth
    bridge over each transit. Returns the filled flux and a per-cadence flag of segments that are
    entirely masked (those cannot be fitted).
    """
    filled = flux.copy()
    dead = np.zeros(flux.shape, dtype=bool)
    interpolate_kernel(
        np.ascontiguousarray(time, dtype=np.float64),
        np.ascontiguousarray(masked, dtype=np.bool_),
        np.asarray(bounds, dtype=np.int64),
        filled,
        dead,
    )
    return filled, dead


@njit(cache=True)
def interpolate_kernel(time, masked, bounds, filled, dead):
    """np.interp of each segment's masked cadences from its unmasked ones, in place.

    One walk per segment: a masked run takes the straight line between its unmasked
    neighbours (np.interp's formula), or the nearest unmasked value at a segment's end.
    """
    for s in range(bounds.shape[0] - 1):
        a, e = bounds[s], bounds[s + 1]
        prev = -1  # last unmasked cadence seen
        k = a
        while k < e:
            if not masked[k]:
                prev = k
                k += 1
                continue
            nxt = k
            while nxt < e and masked[nxt]:
                nxt += 1
            if prev < 0 and nxt == e:
                dead[a:e] = True
                break
            for i in range(k, nxt):
                if prev < 0:
                    filled[i] = filled[nxt]
                elif nxt == e:
                    filled[i] = filled[prev]
                else:
                    slope = (filled[nxt] - filled[prev]) / (time[nxt] - time[prev])
                    filled[i] = slope * (time[i] - time[prev]) + filled[prev]
            k = nxt


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
    if maxiter < 1 or not sigma_cut > 0:
        raise InvalidInput("maxiter must be >= 1 and sigma_cut > 0")
    spaces = np.ascontiguousarray(np.asarray(bkspaces, dtype=np.float64))
    if spaces.ndim != 1 or spaces.size == 0 or not np.all(spaces > 0):
        raise InvalidInput("bkspaces must be a non-empty 1-D array of positive spacings")
    b = segment_bounds(t, gap=gap) if bounds is None else np.asarray(bounds, dtype=np.int64)
    if b[0] != 0 or b[-1] != t.size or np.any(np.diff(b) <= 0):
        raise InvalidInput("bounds must rise strictly from 0 to len(time)")
    dead = np.zeros(t.size, dtype=bool)
    if transit_mask is not None:
        m = np.asarray(transit_mask, dtype=bool)
        if m.shape != t.shape:
            raise InvalidInput("transit_mask must have the shape of time")
        f, dead = interpolate_masked(t, f, m, b)
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
    best = kern.choose_spline(
        tl, fl, bl, spaces, maxiter, sigma_cut, penalty_coeff, trend_l, keep_l, bic
    )
    trend[live] = trend_l
    keep[live] = keep_l
    return SplineFit(trend, keep, float(spaces[best]) if best >= 0 else float("nan"), bic)


def _compact_bounds(bounds: np.ndarray, live: np.ndarray) -> np.ndarray:
    """Segment bounds of the live cadences (segments are dropped whole, never split)."""
    sizes = [int(live[a:b].sum()) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    return np.concatenate(([0], np.cumsum([s for s in sizes if s > 0]))).astype(np.int64)


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
    t, f = as_series(time, flux)
    if not window_days > 0 or not cval > 0:
        raise InvalidInput("window_days and cval must be positive")
    b = segment_bounds(t, gap=gap) if bounds is None else np.asarray(bounds, dtype=np.int64)
    out = np.empty(t.size)
    kernel = biweight_kernel_parallel if parallel else biweight_kernel
    kernel(t, f, b, 0.5 * window_days, cval, maxiter, ftol, out)
    return out


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
    t, f = as_series(time, flux)
    if not window_days > 0 or not cval > 0:
        raise InvalidInput("window_days and cval must be positive")
    b = segment_bounds(t, gap=gap) if bounds is None else np.asarray(bounds, dtype=np.int64)
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
    to either trend, which is why found transits are masked (``mask``: interpolated across, as
    the spline does) and the series detrended again before they are measured. Upward outliers
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
        filled = interpolate_masked(t, f, out, b)[0] if out.any() else f
        trend = biweight_line_trend(t, filled, window_days=window_days, bounds=b)
        if twice:
            trend = trend * biweight_line_trend(
                t, filled / trend, window_days=window_days, bounds=b
            )
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
