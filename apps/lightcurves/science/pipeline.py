"""The two entry points the site and the commands call: ``tce_views`` and ``search_transits``.

Both take a list of :class:`~.io.LightCurve` (quarters or sectors of one target) and return
plain arrays and numbers, so the caller decides how to store them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from .cleaning import clean, normalise, segment_bounds, stitch
from .detrend import biweight_trend
from .diagnostics import find_secondary_phase, tce_diagnostics, transit_numbers, wrap_phase
from .errors import BadEphemeris, InsufficientData, InvalidInput
from .io import LightCurve
from .search import Signal
from .search_run import SearchOptions, check_series, run_search
from .spline import BKSPACES, fit_spline
from .spline.select import median
from .views import (
    VIEW_NAMES,
    Preset,
    binned_view,
    fold,
    get_preset,
    normalisation,
    scale_view,
    view_span,
)

MASK_DURATIONS = 3.0
"""Width, in durations, of the window around each known transit that is kept out of the spline
fit (interpolated across) and removed before folding other TCEs (the seed's 3 D, i.e. +-1.5 D)."""


@dataclass(frozen=True)
class Ephemeris:
    """A periodic transit: period and epoch in days (mission time system), duration in hours."""

    period: float
    epoch: float
    duration_hours: float

    @property
    def duration(self) -> float:
        """Duration in days."""
        return self.duration_hours / 24.0


@dataclass(frozen=True, eq=False)
class FlatSeries:
    """A cleaned, detrended light curve of one target.

    Attributes
    ----------
    time : ndarray, shape (n,)
        Days, sorted.
    flux : ndarray, shape (n,)
        Flattened flux, ``raw / trend`` (about 1).
    raw : ndarray, shape (n,)
        PDCSAP flux before flattening, e-/s.
    trend : ndarray, shape (n,)
        The fitted trend, e-/s.
    centroid_col, centroid_row : ndarray, shape (n,)
        Detrended centroid offsets, pixels (NaN where MOM_CENTR was missing).
    bounds : ndarray of int64
        Segment start indices plus n.
    bkspace : float
        Break-point spacing chosen by BIC (days); NaN for the biweight detrender.
    """

    time: np.ndarray
    flux: np.ndarray
    raw: np.ndarray
    trend: np.ndarray
    centroid_col: np.ndarray
    centroid_row: np.ndarray
    bounds: np.ndarray
    bkspace: float


def transit_mask(time: np.ndarray, tces: Sequence[Ephemeris]) -> np.ndarray:
    """True for cadences within MASK_DURATIONS / 2 durations of a transit of any of ``tces``."""
    mask = np.zeros(time.size, dtype=bool)
    for e in tces:
        mask |= np.abs(fold(time, e.period, e.epoch)) < 0.5 * MASK_DURATIONS * e.duration
    return mask


_transit_mask = transit_mask  # the older private name


BKJD_TO_BTJD = 2454833.0 - 2457000.0
"""Kepler/K2 time (BKJD = BJD - 2454833) to TESS time (BTJD = BJD - 2457000), days."""


def on_one_clock(curves: Sequence[LightCurve]) -> list[LightCurve]:
    """Curves of one star from Kepler/K2 and TESS on TESS's clock (BTJD), all labelled as its
    TESS curve (a star matched across missions, e.g. K2-109 = HD 106315); unchanged otherwise."""
    tess = next((c for c in curves if c.mission.upper() == "TESS"), None)
    if tess is None or all(c.mission.upper() == "TESS" for c in curves):
        return list(curves)
    return [
        c if c.mission.upper() == "TESS"
        else replace(c, time=c.time + BKJD_TO_BTJD, mission=tess.mission, target_id=tess.target_id)
        for c in curves
    ]


def prepare(lightcurves: Sequence[LightCurve], *, quality: bool) -> LightCurve:
    """Clean each curve (NaNs, optionally quality flags) and stitch them in time order.

    Kepler/K2 and TESS curves of one star are put on TESS's clock (``on_one_clock``) after
    each was cleaned with its own mission's quality flags.

    Raises
    ------
    InvalidInput, InsufficientData
        No curves, or no usable cadence in any of them.
    """
    if not lightcurves:
        raise InvalidInput("no light curves given")
    cleaned = []
    for lc in lightcurves:
        try:
            cleaned.append(clean(lc, quality=quality))
        except InsufficientData:
            continue  # an all-NaN quarter is skipped, as AstroNet drops its NaN cadences
    if not cleaned:
        raise InsufficientData("no usable cadences: every light curve is empty or all-NaN")
    return stitch(on_one_clock(cleaned))


def _detrend_centroid(time, values, bounds, bkspace, mask):
    """Centroid minus a spline trend at the flux's spacing (NaN where the centroid is missing)."""
    out = np.full(time.size, np.nan)
    ok = np.isfinite(values)
    if ok.sum() < 4 or not np.isfinite(bkspace):
        return out
    sub_bounds = segment_bounds(time[ok], gap=0.75)
    # One unclipped fit: centroids are often quantised, and clipping at a near-zero MAD can
    # leave knot intervals empty; the transit mask already keeps the signal out.
    fit = fit_spline(
        time[ok],
        values[ok],
        bounds=sub_bounds,
        bkspaces=np.array([bkspace]),
        maxiter=1,
        transit_mask=mask[ok],
    )
    trend = fit.trend
    v = values[ok]
    for a, b in zip(sub_bounds[:-1], sub_bounds[1:], strict=True):
        if not np.isfinite(trend[a:b]).all():  # the spline failed here: fall back to the median
            trend[a:b] = np.median(v[a:b])
    out[ok] = v - trend
    return out


def flatten_lightcurves(
    lightcurves: Sequence[LightCurve],
    *,
    preset: str | Preset = "gaia",
    tces: Sequence[Ephemeris] = (),
    detrender: str = "spline",
    window_days: float = 1.0,
) -> FlatSeries:
    """Clean, stitch and detrend a target's light curves.

    Parameters
    ----------
    lightcurves : sequence of LightCurve
        Quarters or sectors of one target.
    preset : str or Preset
        Decides quality masking and whether known transits are kept out of the fit.
    tces : sequence of Ephemeris
        Known transits of the target (masked from the fit when the preset says so).
    detrender : {"spline", "biweight"}
        AstroNet's BIC spline, or a sliding biweight of ``window_days``.

    Returns
    -------
    FlatSeries
        Cadences where the trend could not be fitted are dropped.
    """
    p = get_preset(preset) if isinstance(preset, str) else preset
    for e in tces:
        check_ephemeris(e)
    lc = prepare(lightcurves, quality=p.quality_mask)
    bounds = segment_bounds(lc.time, lc.part)
    mask = transit_mask(lc.time, tces) if p.mask_transits_in_fit else np.zeros(len(lc), dtype=bool)
    if detrender == "spline":
        fit = fit_spline(
            lc.time,
            lc.flux,
            bounds=bounds,
            bkspaces=BKSPACES,
            transit_mask=mask if mask.any() else None,
        )
        trend, bkspace = fit.trend, fit.bkspace
    elif detrender == "biweight":
        trend, bkspace = (
            biweight_trend(lc.time, lc.flux, window_days=window_days, bounds=bounds),
            float("nan"),
        )
    else:
        raise InvalidInput(f"unknown detrender {detrender!r}; choose 'spline' or 'biweight'")
    ok = np.isfinite(trend) & (trend != 0)
    if ok.sum() < 2:
        raise InsufficientData("the trend could not be fitted to any segment")
    t = lc.time[ok]
    b = segment_bounds(t, lc.part[ok])
    col = _detrend_centroid(
        t, lc.centroid_col[ok], b, bkspace if detrender == "spline" else 0.5, mask[ok]
    )
    row = _detrend_centroid(
        t, lc.centroid_row[ok], b, bkspace if detrender == "spline" else 0.5, mask[ok]
    )
    return FlatSeries(t, lc.flux[ok] / trend[ok], lc.flux[ok], trend[ok], col, row, b, bkspace)


NO_TRANSIT_IN_DATA = "no transit of this TCE falls in the data"
"""The one refusal of a TCE for its period: any period is fine while a transit has cadences."""


def check_ephemeris(e: Ephemeris, time: np.ndarray | None = None) -> None:
    """Raise BadEphemeris unless 0 < duration < period and finite, and, given times, at least
    one cadence lies inside a transit (a period longer than the data is fine: AstroNet makes
    views of a single transit too)."""
    vals = (e.period, e.epoch, e.duration_hours)
    if not all(np.isfinite(v) for v in vals):
        raise BadEphemeris(f"period, epoch and duration must be finite, got {vals}")
    if e.period <= 0:
        raise BadEphemeris(f"period must be positive, got {e.period} d")
    if e.duration_hours <= 0:
        raise BadEphemeris(f"duration must be positive, got {e.duration_hours} h")
    if e.duration >= e.period:
        raise BadEphemeris(
            f"duration {e.duration_hours} h is not shorter than the period {e.period} d"
        )
    if time is None:
        return
    if not np.any(np.abs(fold(time, e.period, e.epoch)) < 0.5 * e.duration):
        raise BadEphemeris(NO_TRANSIT_IN_DATA)


@dataclass(frozen=True, eq=False)
class Folded:
    """A TCE's series sorted by phase once, shared by every view and diagnostic.

    Attributes
    ----------
    phase : ndarray, shape (n,)
        ``fold(time, period, epoch)``, ascending (days).
    time, flux, col, row : ndarray, shape (n,)
        The series' cadences in that order.
    """

    phase: np.ndarray
    time: np.ndarray
    flux: np.ndarray
    col: np.ndarray
    row: np.ndarray

    @classmethod
    def of(cls, time, flux, col, row, period: float, epoch: float) -> Folded:
        phase = fold(time, period, epoch)
        order = np.argsort(phase)  # ties cannot change a median, so any sort will do
        return cls(phase[order], time[order], flux[order], col[order], row[order])


def _views_of(phase, values, p: Preset, period, duration, fill):
    """Global and local binned views (un-normalised) of sorted folded values."""
    g, _ = binned_view(phase, values, p.global_view, period, duration, fill)
    loc, _ = binned_view(phase, values, p.local_view, period, duration, fill)
    return g, loc


@dataclass(frozen=True, eq=False)
class TceViews:
    """What :func:`tce_views` builds for one TCE.

    Attributes
    ----------
    views : dict of str to ndarray
        One array per name of ``views.VIEW_NAMES``, in that order: ``global_view``,
        ``local_view``, ``odd_view``, ``even_view``, ``secondary_view`` (flux, median 0 and
        primary minimum -1; odd/even/secondary use the primary local view's scaling),
        ``centroid_local_view``, ``centroid_global_view`` (centroid shift, pixels, median
        subtracted).
    diagnostics : dict
        Every diagnostic of ``diagnostics.tce_diagnostics``, and ``preset``, ``bkspace``,
        ``n_points``.
    """

    views: dict[str, np.ndarray]
    diagnostics: dict[str, object]


def tce_views(
    lightcurves: Sequence[LightCurve],
    period: float,
    epoch: float,
    duration_hours: float,
    *,
    preset: str = "gaia",
    other_tces: Sequence[Ephemeris] = (),
    secondary_phase: float | None = None,
    flat: FlatSeries | None = None,
) -> TceViews:
    """Flattened-flux views and diagnostics of one TCE.

    Parameters
    ----------
    lightcurves : sequence of LightCurve
        All quarters/sectors of the target.
    period, epoch : float
        Days; the epoch in the light curves' own time system (BKJD for Kepler, BTJD for TESS).
    duration_hours : float
        Transit duration, hours (as in the TCE tables).
    preset : {"gaia", "astronet", "yu2019"}
        View geometry and cleaning recipe (see ``views.PRESETS``).
    other_tces : sequence of Ephemeris
        The target's other TCEs: kept out of the spline fit and removed before folding when
        the preset says so.
    secondary_phase : float, optional
        Offset (days) of the secondary eclipse from the primary; found from the data when None.
    flat : FlatSeries, optional
        A series from :func:`flatten_lightcurves` with the same preset and TCEs, to reuse the
        detrending across the TCEs of one target.

    Returns
    -------
    TceViews

    Raises
    ------
    BadEphemeris
        Period <= 0, duration not shorter than the period, or no transit inside the data
        ("no transit of this TCE falls in the data"); a period longer than the data is fine.
    InsufficientData, InvalidInput
        Empty or all-NaN light curves, unknown preset.
    """
    p = get_preset(preset)
    tce = Ephemeris(float(period), float(epoch), float(duration_hours))
    others = list(other_tces)
    for e in (tce, *others):
        check_ephemeris(e)  # before any folding: a zero period or huge duration masks everything
    if flat is None:
        flat = flatten_lightcurves(lightcurves, preset=p, tces=[tce, *others])
    check_ephemeris(tce, flat.time)
    fo = _fold_tce(flat, tce, others if p.remove_other_tces else [])
    fill = median(fo.flux)
    away = np.abs(fo.phase) > 0.5 * MASK_DURATIONS * tce.duration
    if secondary_phase is None:
        secondary_phase = find_secondary_phase(
            fo.phase[away], fo.flux[away], tce.period, tce.duration, presorted=True
        )
    views = _flux_views(fo, p, tce, fill, _secondary_view(fo, away, p, tce, secondary_phase, fill))
    views.update(_centroid_views(fo, p, tce))
    diagnostics = tce_diagnostics(
        fo.time, fo.flux, tce.period, tce.epoch, tce.duration,
        secondary_phase=secondary_phase, centroid_shift=(fo.col, fo.row), phase=fo.phase,
    )  # fmt: skip
    diagnostics.update(preset=p.name, bkspace=flat.bkspace, n_points=int(fo.time.size))
    return TceViews({name: views[name] for name in VIEW_NAMES}, diagnostics)


def _fold_tce(flat: FlatSeries, tce: Ephemeris, removed: Sequence[Ephemeris]) -> Folded:
    """The flattened series without the ``removed`` TCEs' transits, folded on ``tce``."""
    keep = ~transit_mask(flat.time, removed) if removed else np.ones(flat.time.size, bool)
    if keep.sum() < 2:
        raise InsufficientData("fewer than 2 cadences left after removing the other TCEs")
    return Folded.of(
        flat.time[keep], flat.flux[keep], flat.centroid_col[keep], flat.centroid_row[keep],
        tce.period, tce.epoch,
    )  # fmt: skip


def _flux_views(fo: Folded, p: Preset, tce: Ephemeris, fill, secondary) -> dict[str, np.ndarray]:
    """The normalised flux views: global and local each on its own scale, the odd, even and
    secondary (un-normalised ``secondary``) views on the local view's."""
    gview, lview = _views_of(fo.phase, fo.flux, p, tce.period, tce.duration, fill)
    local_scale = normalisation(lview)
    views = {
        "global_view": scale_view(gview, *normalisation(gview)),
        "local_view": scale_view(lview, *local_scale),
    }
    for name, view in _odd_even_views(fo, p, tce, fill).items():
        views[name] = scale_view(view, *local_scale)
    views["secondary_view"] = scale_view(secondary, *local_scale)
    return views


def _odd_even_views(fo: Folded, p: Preset, tce: Ephemeris, fill) -> dict[str, np.ndarray]:
    """Local views of the odd and even events (un-normalised); all ``fill`` when a parity has
    fewer than 2 cadences. Only the local view's span of the sorted series is split."""
    span = view_span(fo.phase, p.local_view, tce.period, tce.duration)
    odd = transit_numbers(fo.time[span], tce.period, tce.epoch) % 2 == 0
    views = {}
    for name, sel in (("odd_view", odd), ("even_view", ~odd)):
        if sel.sum() < 2 and _parity_count(fo, tce, name == "odd_view") < 2:
            views[name] = np.full(p.local_view.num_bins, fill)
            continue
        views[name], _ = binned_view(
            fo.phase[span][sel], fo.flux[span][sel], p.local_view, tce.period, tce.duration, fill,
            min_points=0,
        )
    return views


def _parity_count(fo: Folded, tce: Ephemeris, odd: bool) -> int:
    """Cadences of odd (even transit number) or even events in the whole series."""
    even_number = transit_numbers(fo.time, tce.period, tce.epoch) % 2 == 0
    return int(even_number.sum() if odd else (~even_number).sum())


def _secondary_view(fo: Folded, away, p: Preset, tce: Ephemeris, secondary_phase, fill):
    """Local view (un-normalised) centred on the secondary, from the cadences away from the
    primary; only those whose primary phase is near the secondary are folded again."""
    spec = p.secondary_view
    if away.sum() < 2:
        return np.full(spec.num_bins, fill)
    P, D = tce.period, tce.duration
    width, lo, hi = spec.geometry(P, D)
    offset = wrap_phase(fo.phase - (secondary_phase + (lo + hi) / 2), P)
    near = np.flatnonzero(away & (np.abs(offset) <= (hi - lo) / 2 + width + 1e-9 * P))
    sph = fold(fo.time[near], P, tce.epoch + secondary_phase)
    order = np.argsort(sph)
    view, _ = binned_view(sph[order], fo.flux[near][order], spec, P, D, fill, min_points=0)
    return view


def _centroid_views(fo: Folded, p: Preset, tce: Ephemeris) -> dict[str, np.ndarray]:
    """Local and global views of the centroid shift hypot(dcol, drow), pixels, median 0."""
    ok = np.isfinite(fo.col) & np.isfinite(fo.row)
    if ok.sum() < 2:
        return {
            "centroid_local_view": np.zeros(p.local_view.num_bins),
            "centroid_global_view": np.zeros(p.global_view.num_bins),
        }
    shift = np.hypot(fo.col[ok], fo.row[ok])
    g, loc = _views_of(fo.phase[ok], shift, p, tce.period, tce.duration, median(shift))
    return {"centroid_local_view": loc - median(loc), "centroid_global_view": g - median(g)}


def search_transits(
    lightcurves: Sequence[LightCurve],
    options: SearchOptions = SearchOptions(),
    *,
    report: dict | None = None,
) -> list[Signal]:
    """Search a target's light curves for periodic transits (see ``search_run``).

    Parameters
    ----------
    lightcurves : sequence of LightCurve
        Quarters, campaigns or sectors of one target (gaps of any length: the grid covers the
        whole span).
    options : SearchOptions
        Search preset (``search_run.SEARCH_PRESETS``: detrending, engine, grid and
        thresholds), stellar density (trial durations scale with period for it, or cover a
        broad range when None), period range or a log-spaced grid of ``n_periods``, and when
        to stop (``max_signals``, or the first candidate below ``min_sde``/``min_snr``, the
        preset's unless given).
    report : dict, optional
        Filled with the run's summary (window, grid size, thresholds, first rejected candidate).

    Returns
    -------
    list of Signal
        Found signals, strongest first; each becomes a TCE with source "search".

    Raises
    ------
    InvalidInput, InsufficientData
        Bad grid or unusable light curves.
    """
    lc = prepare(lightcurves, quality=True)
    bounds = segment_bounds(lc.time, lc.part)
    flux = normalise(lc.flux, bounds)
    check_series(lc.time, flux)
    signals, summary = run_search(lc.time, flux, bounds, options)
    if report is not None:
        report.update(summary)
    return signals
