"""Phase folding and median-binned views (AstroNet's global/local views and ExoMiner-style extras).

Binning restates ``light_curve/binning.py::bin_and_aggregate`` of exoplanet-ml: ``num_bins`` bins
of width ``bin_width`` whose left edges step by ``(x_max - x_min - bin_width) / (num_bins - 1)``
from ``x_min`` (accumulated by repeated addition, as the original loop does); a bin covers
``[left, left + bin_width)`` and aggregates with the median. Empty bins take the median of all
folded values; views are then shifted to median 0 and scaled to minimum -1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from .errors import InsufficientData, InvalidInput
from .spline.select import median_inplace


@dataclass(frozen=True)
class ViewSpec:
    """Geometry of one binned view.

    Attributes
    ----------
    num_bins : int
        Number of bins.
    bin_width : float
        Bin width as a fraction of the period (global views) or of the duration (local views).
    half_width_durations : float or None
        Local views span ``max(-P/2, -k D) .. min(P/2, k D)`` with k this value; None for a
        global view over the whole period ``[-P/2, P/2)``.
    """

    num_bins: int
    bin_width: float
    half_width_durations: float | None = None

    def geometry(self, period: float, duration: float) -> tuple[float, float, float]:
        """Return (bin_width, x_min, x_max) in days for this period and duration (days)."""
        if self.half_width_durations is None:
            return period * self.bin_width, -period / 2, period / 2
        k = self.half_width_durations
        return (
            duration * self.bin_width,
            max(-period / 2, -k * duration),
            min(period / 2, k * duration),
        )


@dataclass(frozen=True)
class Preset:
    """A named preprocessing recipe: view geometry plus the cleaning choices around it.

    Attributes
    ----------
    name : str
    global_view, local_view, secondary_view : ViewSpec
    quality_mask : bool
        Drop cadences flagged by lightkurve's default bitmask (AstroNet drops only NaNs).
    mask_transits_in_fit : bool
        Keep the target's known transits out of the spline fit (interpolated across).
    remove_other_tces : bool
        Remove the other TCEs' transits before folding.
    """

    name: str
    global_view: ViewSpec
    local_view: ViewSpec
    secondary_view: ViewSpec
    quality_mask: bool
    mask_transits_in_fit: bool
    remove_other_tces: bool


VIEW_NAMES = (
    "global_view",
    "local_view",
    "odd_view",
    "even_view",
    "secondary_view",
    "centroid_local_view",
    "centroid_global_view",
)
"""Every view ``pipeline.tce_views`` builds (the others of its answer are diagnostics), in the
order stores and datasets keep them."""

_ASTRONET_GLOBAL = ViewSpec(2001, 1 / 2001)
_ASTRONET_LOCAL = ViewSpec(201, 0.16, 4.0)

PRESETS: dict[str, Preset] = {
    "astronet": Preset(
        "astronet", _ASTRONET_GLOBAL, _ASTRONET_LOCAL, _ASTRONET_LOCAL, False, False, False
    ),
    "gaia": Preset("gaia", _ASTRONET_GLOBAL, _ASTRONET_LOCAL, _ASTRONET_LOCAL, True, True, True),
    "yu2019": Preset(
        "yu2019",
        ViewSpec(201, 1.2 / 201),
        ViewSpec(61, 0.16, 2.0),
        ViewSpec(61, 0.16, 2.0),
        True,
        True,
        True,
    ),
}
"""Named presets. ``astronet`` is Shallue & Vanderburg 2018 as coded; ``yu2019`` is Yu et al.
2019 (TESS: global 201 bins of width 1.2 P / 201, local and secondary 61 bins of 0.16 D over
+-2 D)."""


def get_preset(name: str) -> Preset:
    """Look a preset up by name, with a clear error listing the valid names."""
    try:
        return PRESETS[name]
    except KeyError:
        raise InvalidInput(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}") from None


def fold(time: np.ndarray, period: float, epoch: float) -> np.ndarray:
    """Phase-fold times to ``[-P/2, P/2)`` days with the epoch at 0 (AstroNet's phase_fold_time)."""
    t = np.ascontiguousarray(time, dtype=np.float64)
    out = np.empty(t.shape)
    fold_kernel(t.reshape(-1), float(period), float(epoch), out.reshape(-1))
    return out


@njit(cache=True, error_model="numpy")
def fold_kernel(time, period, epoch, out):
    """out = np.mod(time + (P/2 - epoch), P) - P/2, bit for bit (float % is numpy's mod)."""
    half = period / 2
    shift = half - epoch
    for k in range(time.shape[0]):
        out[k] = (time[k] + shift) % period - half


@njit(cache=True)
def bin_median(x, y, num_bins, bin_width, x_min, x_max):
    """Median of y in each of num_bins windows along sorted x (AstroNet's bin_and_aggregate).

    x: (n,) ascending; returns (values (num_bins,), counts (num_bins,)); empty bins hold 0.
    x_max only sets the spacing: the last bin ends at x_max exactly only up to rounding.
    """
    n = x.shape[0]
    spacing = (x_max - x_min - bin_width) / (num_bins - 1)
    out = np.zeros(num_bins)
    counts = np.zeros(num_bins, dtype=np.int64)
    buf = np.empty(n)  # one workspace for every bin's median (np.median would copy per bin)
    lo = x_min
    hi = x_min + bin_width
    j0 = 0
    j1 = 0
    while j0 < n and x[j0] < x_min:
        j0 += 1
    j1 = j0
    for i in range(num_bins):
        while j0 < n and x[j0] < lo:
            j0 += 1
        while j1 < n and x[j1] < hi:
            j1 += 1
        m = j1 - j0
        if m > 0:
            w = buf[:m]
            w[:] = y[j0:j1]
            out[i] = median_inplace(w)
            counts[i] = m
        lo += spacing
        hi += spacing
    return out, counts


def binned_view(
    phase: np.ndarray,
    values: np.ndarray,
    spec: ViewSpec,
    period: float,
    duration: float,
    fill: float,
    *,
    min_points: int = 2,
) -> tuple[np.ndarray, np.ndarray]:
    """Median-binned view of sorted (phase, values); empty bins take ``fill``.

    ``min_points=0`` bins a slice of a larger folded series, however few points it holds.

    Returns
    -------
    view, counts : ndarray, shape (spec.num_bins,)
        Un-normalised view (values' units) and the number of points in each bin.
    """
    if phase.size < min_points:
        raise InsufficientData(f"a view needs at least {min_points} folded points")
    width, lo, hi = spec.geometry(period, duration)
    if not (width > 0 and width < hi - lo):
        raise InvalidInput(f"bin width {width:.4g} d does not fit in the view span {hi - lo:.4g} d")
    view, counts = bin_median(phase, values, spec.num_bins, width, lo, hi)
    return np.where(counts > 0, view, fill), counts


def bin_centres(spec: ViewSpec, period: float, duration: float) -> np.ndarray:
    """Phase (days from mid-transit) at the centre of each of a view's bins, shape (num_bins,).

    The x axis to plot a view against: the same left edges ``bin_median`` steps through, plus half
    a bin width.
    """
    width, lo, hi = spec.geometry(period, duration)
    spacing = (hi - lo - width) / (spec.num_bins - 1)
    return lo + spacing * np.arange(spec.num_bins) + width / 2


def view_span(phase: np.ndarray, spec: ViewSpec, period: float, duration: float) -> slice:
    """The slice of sorted phases a view's bins can see (its span plus a bin width of margin)."""
    width, lo, hi = spec.geometry(period, duration)
    a, b = np.searchsorted(phase, [lo, hi + width])
    return slice(int(a), int(b))


def normalisation(view: np.ndarray) -> tuple[float, float]:
    """(median, |min - median|) that map a view to median 0 and minimum -1."""
    center = float(np.median(view))
    scale = float(abs(np.min(view - center)))
    return center, scale if scale > 0 else 1.0


def scale_view(view: np.ndarray, center: float, scale: float) -> np.ndarray:
    """Apply a (median, scale) normalisation, e.g. the primary local view's to the odd view."""
    return (view - center) / scale
