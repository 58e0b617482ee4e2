"""Per-TCE diagnostics on a flattened light curve: depth, SNR, odd/even, secondary, centroid.

All depths are ``baseline - mean(in-transit flux)`` in flux units of the flattened series (a
fraction of the star's flux). In-transit means the central half of the transit,
``|phase| < D/4``, so ingress and egress do not dilute the depth; the baseline is the median of
points more than one duration from the transit, and the noise its robust (MAD) sigma.
"""

from __future__ import annotations

import numpy as np

from .spline.select import median
from .views import fold


def robust_sigma(x: np.ndarray) -> float:
    """1.4826 * median absolute deviation: the standard deviation of Gaussian noise, robustly."""
    if x.size == 0:
        return float("nan")
    return float(1.4826 * median(np.abs(x - median(x))))


def box_depth(
    flux: np.ndarray, inside: np.ndarray, baseline: float, sigma: float
) -> tuple[float, float, int]:
    """(depth, error, n_points) of the points selected by ``inside`` below ``baseline``."""
    n = int(inside.sum())
    if n == 0 or not np.isfinite(sigma):
        return float("nan"), float("nan"), 0
    return float(baseline - flux[inside].mean()), float(sigma / np.sqrt(n)), n


def significance(a: float, ea: float, b: float, eb: float) -> float:
    """|a - b| in units of the combined error (NaN when either is unmeasured)."""
    err = np.hypot(ea, eb)
    return float(abs(a - b) / err) if np.isfinite(err) and err > 0 else float("nan")


def transit_numbers(time: np.ndarray, period: float, epoch: float) -> np.ndarray:
    """Integer transit number of each cadence: round((t - epoch) / P)."""
    return np.floor((time - epoch) / period + 0.5).astype(np.int64)


def find_secondary_phase(
    phase: np.ndarray,
    flux: np.ndarray,
    period: float,
    duration: float,
    *,
    presorted: bool = False,
) -> float:
    """Phase offset (days, in [-P/2, P/2)) of the deepest box dip away from the primary.

    Trial centres step by D/4; a box of width D must stay 2 D from the primary. Returns P/2 when
    the period leaves no room or nothing is measured. ``presorted`` says phase is ascending.
    """
    if period < 5 * duration or phase.size == 0:
        return period / 2
    if presorted:
        ph, fl = phase, flux
    else:
        order = np.argsort(phase)
        ph, fl = phase[order], flux[order]
    # Boxes near +-P/2 wrap around: extend the folded curve by one box width on each side.
    head = np.searchsorted(ph, -period / 2 + duration)
    tail = np.searchsorted(ph, period / 2 - duration)
    ph = np.concatenate((ph[tail:] - period, ph, ph[:head] + period))
    fl = np.concatenate((fl[tail:], fl, fl[:head]))
    csum = np.concatenate(([0.0], np.cumsum(fl)))
    centres = np.arange(-period / 2, period / 2, duration / 4)
    centres = centres[np.abs(centres) >= 2 * duration]
    if centres.size == 0:
        return period / 2
    lo = np.searchsorted(ph, centres - duration / 2)
    hi = np.searchsorted(ph, centres + duration / 2)
    counts = hi - lo
    means = np.where(counts > 0, (csum[hi] - csum[lo]) / np.maximum(counts, 1), np.inf)
    if not np.isfinite(means).any():
        return period / 2
    return float(centres[int(np.argmin(means))])


def per_transit(
    time: np.ndarray,
    flux: np.ndarray,
    phase: np.ndarray,
    period: float,
    epoch: float,
    duration: float,
    baseline: float,
    sigma: float,
) -> dict[str, np.ndarray]:
    """Depth of every observed transit, for a per-transit gallery.

    Returns arrays over observed transits: ``transit_number``, ``transit_time`` (days),
    ``transit_depth`` and ``transit_depth_err`` (flux units), ``transit_npoints``.
    """
    core = np.abs(phase) < duration / 4
    numbers = transit_numbers(time[core], period, epoch)
    seen, which = np.unique(numbers, return_inverse=True)
    npts = np.bincount(which, minlength=seen.size).astype(np.int64)
    depth = baseline - np.bincount(which, weights=flux[core], minlength=seen.size) / npts
    err = sigma / np.sqrt(npts)
    if not np.isfinite(sigma):  # as box_depth: nothing is measured without a noise level
        depth[:], err[:], npts[:] = np.nan, np.nan, 0
    return {
        "transit_number": seen,
        "transit_time": epoch + seen * period,
        "transit_depth": depth,
        "transit_depth_err": err,
        "transit_npoints": npts,
    }


def transit_cutouts(
    time: np.ndarray,
    flux: np.ndarray,
    period: float,
    epoch: float,
    duration: float,
    numbers: np.ndarray,
    *,
    half_width: float = 3.0,
    min_coverage: float = 0.8,
) -> list[dict[str, np.ndarray | float | int | bool]]:
    """One cut-out of ``half_width`` durations either side of each given transit.

    Parameters
    ----------
    time, flux : ndarray, shape (n,)
        Flattened series, time ascending (days).
    period, epoch, duration : float
        Ephemeris, days.
    numbers : ndarray of int
        Transit numbers (``transit_numbers``) to cut out.
    half_width : float
        Half the window, in durations.
    min_coverage : float
        A transit whose in-transit cadences (``|dt| < D/2``) or whole window hold fewer than this
        fraction of what the median cadence predicts is marked ``gappy`` (missing data).

    Returns
    -------
    list of dict
        Per transit: ``number``, ``time`` (mid-transit, days), ``dt`` (days from mid-transit) and
        ``flux`` of the cadences in the window, ``coverage`` (in-transit fraction) and ``gappy``.
    """
    step = float(np.median(np.diff(time))) if time.size > 1 else float("nan")
    expected_in = duration / step if step > 0 else float("nan")
    expected_window = 2 * half_width * duration / step if step > 0 else float("nan")
    out = []
    for number in np.asarray(numbers, dtype=np.int64):
        mid = epoch + number * period
        a, b = np.searchsorted(time, [mid - half_width * duration, mid + half_width * duration])
        dt = time[a:b] - mid
        n_in = int((np.abs(dt) < duration / 2).sum())
        coverage = min(1.0, n_in / expected_in) if expected_in > 0 else 0.0
        window = min(1.0, dt.size / expected_window) if expected_window > 0 else 0.0
        out.append(
            {
                "number": int(number),
                "time": float(mid),
                "dt": dt,
                "flux": flux[a:b],
                "coverage": float(coverage),
                "gappy": bool(coverage < min_coverage or window < min_coverage),
            }
        )
    return out


def tce_diagnostics(
    time: np.ndarray,
    flux: np.ndarray,
    period: float,
    epoch: float,
    duration: float,
    *,
    secondary_phase: float | None = None,
    centroid_shift: tuple[np.ndarray, np.ndarray] | None = None,
    phase: np.ndarray | None = None,
) -> dict[str, float | int | np.ndarray]:
    """Scalar and per-transit diagnostics of one TCE.

    Parameters
    ----------
    time, flux : ndarray, shape (n,)
        Flattened series (flux about 1), other TCEs already removed; days.
    period, epoch, duration : float
        Ephemeris, days (epoch in the series' time system).
    secondary_phase : float, optional
        Offset of the secondary eclipse from the primary, days; found by search when None.
    centroid_shift : (ndarray, ndarray), optional
        Detrended column and row centroid offsets (pixels) at each cadence.
    phase : ndarray, shape (n,), optional
        ``fold(time, period, epoch)`` when the caller has it already.

    Returns
    -------
    dict
        ``n_transits``, ``depth``, ``depth_err``, ``snr``, ``odd_depth``, ``even_depth``,
        ``odd_even_sigma``, ``odd_even_flag``, ``secondary_flag``, ``eb_flag``, ``secondary_phase``, ``secondary_depth``, ``secondary_depth_err``,
        ``secondary_sigma``, ``centroid_offset_col``, ``centroid_offset_row`` (pixels, in minus
        out), ``centroid_offset_sigma``, plus the per-transit arrays of :func:`per_transit`.
    """
    if phase is None:
        phase = fold(time, period, epoch)
    away = np.abs(phase) > duration
    base = flux[away] if away.any() else flux
    baseline = median(base)
    sigma = robust_sigma(flux[away]) if away.sum() > 2 else robust_sigma(flux)
    core = np.abs(phase) < duration / 4
    depth, depth_err, _ = box_depth(flux, core, baseline, sigma)
    odd = transit_numbers(time[core], period, epoch) % 2 == 0
    d_odd, e_odd, _ = box_depth(flux[core], odd, baseline, sigma)
    d_even, e_even, _ = box_depth(flux[core], ~odd, baseline, sigma)
    if secondary_phase is None:
        secondary_phase = find_secondary_phase(phase[away], flux[away], period, duration)
    s_depth, s_err, _ = box_depth(
        flux, secondary_core(time, phase, period, epoch, duration, secondary_phase), baseline, sigma
    )
    out: dict[str, float | int | np.ndarray] = {
        "depth": depth,
        "depth_err": depth_err,
        "snr": depth / depth_err if depth_err > 0 else float("nan"),
        "odd_depth": d_odd,
        "odd_depth_err": e_odd,
        "even_depth": d_even,
        "even_depth_err": e_even,
        "odd_even_sigma": significance(d_odd, e_odd, d_even, e_even),
        "secondary_phase": float(secondary_phase),
        "secondary_depth": s_depth,
        "secondary_depth_err": s_err,
        "secondary_sigma": s_depth / s_err if s_err > 0 else float("nan"),
    }
    out.update(eb_flags(out))
    out.update(_centroid_offsets(phase, duration, centroid_shift))
    gallery = per_transit(time, flux, phase, period, epoch, duration, baseline, sigma)
    out["n_transits"] = int(gallery["transit_number"].size)
    out.update(gallery)
    return out


def secondary_core(
    time: np.ndarray,
    phase: np.ndarray,
    period: float,
    epoch: float,
    duration: float,
    secondary_phase: float,
) -> np.ndarray:
    """Cadences in the central half of the secondary eclipse and more than D from the primary.

    Only cadences whose primary phase is near the secondary are folded again (exactly, at
    ``epoch + secondary_phase``), instead of the whole series.
    """
    near = np.abs(wrap_phase(phase - secondary_phase, period)) < duration / 4 + 1e-9 * period
    idx = np.flatnonzero(near & (np.abs(phase) > duration))
    inside = np.zeros(phase.shape, dtype=bool)
    sphase = fold(time[idx], period, epoch + secondary_phase)
    inside[idx[np.abs(sphase) < duration / 4]] = True
    return inside


def wrap_phase(offset: np.ndarray, period: float) -> np.ndarray:
    """Offsets (days) brought into [-P/2, P/2) by whole periods (approximately: for masks)."""
    return offset - period * np.floor(offset / period + 0.5)


def eb_flags(
    d: dict, *, sigma: float = 3.0, secondary_sigma: float = 7.0, ratio: float = 0.1
) -> dict[str, bool]:
    """Eclipsing-binary flags from odd/even and secondary measurements.

    Both need a significant difference and a large one: deep, high-SNR transits differ by a
    few sigma from systematics alone (TrES-2's odd and even depths differ by 1.5 % at 6 sigma),
    while an EB's alternate eclipses or its secondary differ by a sizeable fraction of the depth.
    """
    depth = d["depth"]
    deeper = max(d["odd_depth"], d["even_depth"])
    odd_even = bool(
        d["odd_even_sigma"] > sigma and abs(d["odd_depth"] - d["even_depth"]) > ratio * deeper
    )
    secondary = bool(
        d["secondary_sigma"] > secondary_sigma and d["secondary_depth"] > ratio * depth
    )
    return {
        "odd_even_flag": odd_even,
        "secondary_flag": secondary,
        "eb_flag": odd_even or secondary,
    }


def _centroid_offsets(
    phase: np.ndarray, duration: float, shift: tuple[np.ndarray, np.ndarray] | None
) -> dict[str, float]:
    """In-transit minus nearby out-of-transit centroid, pixels, and its significance."""
    nan = float("nan")
    if shift is None:
        return {
            "centroid_offset_col": nan,
            "centroid_offset_row": nan,
            "centroid_offset_sigma": nan,
        }
    col, row = shift
    inside = (np.abs(phase) < duration / 2) & np.isfinite(col) & np.isfinite(row)
    near = (
        (np.abs(phase) > duration)
        & (np.abs(phase) < 3 * duration)
        & np.isfinite(col)
        & np.isfinite(row)
    )
    if inside.sum() < 2 or near.sum() < 2:
        return {
            "centroid_offset_col": nan,
            "centroid_offset_row": nan,
            "centroid_offset_sigma": nan,
        }
    dc = float(np.mean(col[inside]) - np.mean(col[near]))
    dr = float(np.mean(row[inside]) - np.mean(row[near]))
    ec = np.hypot(
        robust_sigma(col[inside]) / np.sqrt(inside.sum()),
        robust_sigma(col[near]) / np.sqrt(near.sum()),
    )
    er = np.hypot(
        robust_sigma(row[inside]) / np.sqrt(inside.sum()),
        robust_sigma(row[near]) / np.sqrt(near.sum()),
    )
    sig = float(np.hypot(dc / ec if ec > 0 else 0.0, dr / er if er > 0 else 0.0))
    return {"centroid_offset_col": dc, "centroid_offset_row": dr, "centroid_offset_sigma": sig}
