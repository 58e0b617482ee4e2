"""Reads of light-curve series stored as Parquet, shaped for plots and the API."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow.parquet as pq

from apps.catalog.models import TCE, LightCurve
from apps.core.errors import InvalidInput, NotFound
from apps.core.storage import product_local_path
from apps.lightcurves.products import (
    flattened_artifact,
    flattened_load,
    views_artifact,
    views_load,
    views_presets_stored,
)
from apps.lightcurves.science.cleaning import default_bitmask
from apps.lightcurves.science.diagnostics import transit_cutouts
from apps.lightcurves.science.pipeline import Ephemeris, transit_mask
from apps.lightcurves.science.views import PRESETS, ViewSpec, bin_centres
from apps.lightcurves.services import same_signal
from apps.plots.downsample import minmax_downsample

SERIES_COLUMNS = ["TIME", "PDCSAP_FLUX", "PDCSAP_FLUX_ERR", "QUALITY"]


@dataclass(frozen=True)
class Series:
    """A light curve's arrays: time (mission system), flux normalised by its median, flags."""

    time: np.ndarray
    flux: np.ndarray
    flux_err: np.ndarray
    quality: np.ndarray
    flagged: np.ndarray
    n_total: int
    downsampled: bool


def _read_series(lightcurve: LightCurve, columns: list[str]):  # noqa: ANN202 - a pyarrow Table
    """Columns of a light curve's Parquet series, wherever the product storage keeps it."""
    try:
        with product_local_path(lightcurve.parquet_path) as path:
            return pq.read_table(path, columns=columns)
    except FileNotFoundError as exc:
        raise NotFound(f"series file for light curve {lightcurve.pk} is missing ({lightcurve.parquet_path})") from exc


def _read_columns(lightcurve: LightCurve) -> dict[str, np.ndarray]:
    table = _read_series(lightcurve, SERIES_COLUMNS)
    return {name: table.column(name).to_numpy(zero_copy_only=False) for name in SERIES_COLUMNS}


def _window_check(t_min: float | None, t_max: float | None) -> None:
    for name, value in (("t_min", t_min), ("t_max", t_max)):
        if value is not None and not np.isfinite(value):
            raise InvalidInput(f"{name} must be a finite time")
    if t_min is not None and t_max is not None and t_min >= t_max:
        raise InvalidInput(f"t_min ({t_min}) must be before t_max ({t_max})")


def lightcurve_series(
    *,
    lightcurve: LightCurve,
    max_points: int | None = 5000,
    normalise: bool = True,
    t_min: float | None = None,
    t_max: float | None = None,
) -> Series:
    """PDCSAP series of one quarter/sector; downsampled (min/max per bucket) when ``max_points`` is set.

    ``t_min``/``t_max`` keep one time window (what a zoomed plot shows) before downsampling, so a
    narrow window comes back at full resolution; the flux is still normalised by the median of the
    whole series, so the window's points sit exactly where the overview drew them. ``n_total`` counts
    the points in the window.
    """
    if max_points is not None and max_points < 2:
        raise InvalidInput("max_points must be at least 2")
    _window_check(t_min, t_max)
    cols = _read_columns(lightcurve)
    time = cols["TIME"].astype(float)
    flux = cols["PDCSAP_FLUX"].astype(float)
    flux_err = cols["PDCSAP_FLUX_ERR"].astype(float)
    quality = cols["QUALITY"].astype(np.int64)
    usable = np.isfinite(time) & np.isfinite(flux)
    time, flux, flux_err, quality = time[usable], flux[usable], flux_err[usable], quality[usable]
    flagged = (quality & default_bitmask(lightcurve.mission)) != 0
    if normalise and flux.size:
        reference = np.nanmedian(flux[~flagged]) if (~flagged).any() else np.nanmedian(flux)
        if reference and np.isfinite(reference):
            flux = flux / reference
            flux_err = flux_err / reference
    if t_min is not None or t_max is not None:
        inside = (time >= (-np.inf if t_min is None else t_min)) & (time <= (np.inf if t_max is None else t_max))
        time, flux, flux_err, quality, flagged = (a[inside] for a in (time, flux, flux_err, quality, flagged))
    n_total = int(time.size)
    downsampled = False
    if max_points is not None and n_total > max_points:
        keep = minmax_downsample(time, flux, max_points)
        time, flux, flux_err, quality, flagged = (a[keep] for a in (time, flux, flux_err, quality, flagged))
        downsampled = True
    return Series(time, flux, flux_err, quality, flagged, n_total, downsampled)


CENTROID_COLUMNS = ["TIME", "MOM_CENTR1", "MOM_CENTR2", "QUALITY"]


@dataclass(frozen=True)
class CentroidSeries:
    """Flux-weighted centroid of one quarter/sector at its good cadences: column and row, pixels."""

    time: np.ndarray
    column: np.ndarray
    row: np.ndarray


def centroid_series(*, lightcurve: LightCurve, max_points: int | None = 5000) -> CentroidSeries:
    """MOM_CENTR1/2 where time and both are finite and the default quality mask passes.

    Downsampled (each bucket's minimum and maximum of both coordinates) when ``max_points`` is set,
    so a centroid jump during a transit survives; at most ``2 * max_points`` points then.
    """
    table = _read_series(lightcurve, CENTROID_COLUMNS)
    time, column, row = (table.column(name).to_numpy(zero_copy_only=False).astype(float) for name in CENTROID_COLUMNS[:3])
    quality = table.column("QUALITY").to_numpy(zero_copy_only=False).astype(np.int64)
    keep = np.isfinite(time) & np.isfinite(column) & np.isfinite(row) & ((quality & default_bitmask(lightcurve.mission)) == 0)
    time, column, row = time[keep], column[keep], row[keep]
    if max_points is not None and time.size > max_points:
        index = np.union1d(minmax_downsample(time, column, max_points), minmax_downsample(time, row, max_points))
        time, column, row = time[index], column[index], row[index]
    return CentroidSeries(time, column, row)


def transit_times(*, period: float, epoch: float, t_min: float, t_max: float, limit: int = 2000) -> np.ndarray:
    """Mid-transit times of a TCE inside [t_min, t_max]."""
    if period <= 0:
        return np.empty(0)
    first = np.ceil((t_min - epoch) / period)
    last = np.floor((t_max - epoch) / period)
    if last < first:
        return np.empty(0)
    n = int(min(last - first + 1, limit))
    return epoch + (first + np.arange(n)) * period


def tce_views_latest(*, tce_id: int, preset: str, version: int | None = None) :  # noqa: ANN201 - (arrays, Artifact) or None
    """The newest views of a TCE for a preset (or those of artifact ``version``), arrays by name, and their artifact, or None."""
    artifact = views_artifact(tce_id=tce_id, preset=preset, version=version)
    if artifact is None:
        return None
    return views_load(artifact), artifact


def flattened_latest(*, target_id: int, preset: str = "gaia"):  # noqa: ANN201
    """The newest flattened series of a target (dict of arrays) and its artifact, or None."""
    artifact = flattened_artifact(target_id=target_id, preset=preset)
    if artifact is None:
        return None
    return flattened_load(artifact), artifact


#: Presets in the order pages offer them (the first with views is shown by default).
VIEW_PRESETS = ("gaia", "yu2019", "astronet")
#: The most cadences a page sends to the browser for re-folding (and drawing) a light curve.
FOLD_MAX_POINTS = 50_000


def default_preset(mission: str) -> str:
    """The preset a vetter sees first: ``yu2019`` for TESS (the CNN's), ``gaia`` otherwise."""
    return "yu2019" if mission == "tess" else "gaia"


def tce_view_presets(*, tce_id: int) -> list[str]:
    """Presets for which the TCE has views, in ``VIEW_PRESETS`` order."""
    stored = views_presets_stored(tce_id=tce_id, presets=VIEW_PRESETS)
    return [p for p in VIEW_PRESETS if p in stored]


def tce_diagnostics_latest(*, tce_id: int, presets: tuple[str, ...] = VIEW_PRESETS):  # noqa: ANN201
    """(diagnostics dict, views artifact) of the first preset in ``presets`` with views, or None.

    The diagnostics live in the views artifact's meta, so no array file is read.
    """
    for preset in presets:
        artifact = views_artifact(tce_id=tce_id, preset=preset)
        if artifact is not None:
            return artifact.meta.get("diagnostics", {}), artifact
    return None


@dataclass(frozen=True)
class ViewAxis:
    """The x values of a stored view and what they mean."""

    x: np.ndarray
    label: str


def _spec_geometry(spec: ViewSpec) -> dict:
    return {"num_bins": spec.num_bins, "bin_width": spec.bin_width, "half_width": spec.half_width_durations}


def view_geometry(preset: str) -> dict[str, dict]:
    """A preset's global and local view geometry as plain numbers (for re-folding in the browser)."""
    p = PRESETS[preset]
    return {"global": _spec_geometry(p.global_view), "local": _spec_geometry(p.local_view)}


def view_axes(*, preset: str, period: float, duration_hours: float) -> dict[str, ViewAxis]:
    """Phase axis of each stored view: days from mid-transit for global views, hours for local ones.

    The secondary view's axis is hours from the secondary eclipse.
    """
    p = PRESETS[preset]
    duration = duration_hours / 24.0
    glob = ViewAxis(bin_centres(p.global_view, period, duration), "phase (d from mid-transit)")
    local = ViewAxis(24.0 * bin_centres(p.local_view, period, duration), "hours from mid-transit")
    secondary = ViewAxis(24.0 * bin_centres(p.secondary_view, period, duration), "hours from the secondary eclipse")
    return {
        "global_view": glob, "centroid_global_view": glob, "local_view": local, "odd_view": local,
        "even_view": local, "centroid_local_view": local, "secondary_view": secondary,
    }


@dataclass(frozen=True)
class FoldSeries:
    """A TCE's flattened series as folded into its views: other TCEs' transits removed where the
    preset removes them, downsampled to at most ``FOLD_MAX_POINTS`` (min/max per bucket)."""

    time: np.ndarray
    flux: np.ndarray
    n_total: int
    downsampled: bool


def tce_fold_series(*, tce: TCE, preset: str, max_points: int = FOLD_MAX_POINTS, flattened=None):  # noqa: ANN001, ANN201
    """(FoldSeries, flattened artifact) of the TCE's target for ``preset``, or None when not processed.

    ``flattened``: what ``flattened_latest`` returned, when the caller has read it already.
    """
    latest = flattened if flattened is not None else flattened_latest(target_id=tce.target_id, preset=preset)
    if latest is None:
        return None
    data, artifact = latest
    time, flux = np.asarray(data["time"], dtype=float), np.asarray(data["flux"], dtype=float)
    if PRESETS[preset].remove_other_tces:
        others = [
            Ephemeris(t.period_days, t.epoch, t.duration_hours)
            for t in TCE.objects.filter(target_id=tce.target_id, epoch_system=tce.epoch_system).exclude(pk=tce.pk)
            if not same_signal(t, tce)
        ]
        if others:
            keep = ~transit_mask(time, others)
            time, flux = time[keep], flux[keep]
    n_total = int(time.size)
    keep = minmax_downsample(time, flux, max_points)
    return FoldSeries(time[keep], flux[keep], n_total, keep.size < n_total), artifact


def tce_cutouts(*, tce: TCE, time: np.ndarray, flux: np.ndarray, diagnostics: dict, limit: int = 60) -> list[dict]:
    """Cut-outs (±3 durations) of the TCE's observed transits, with their depth and SNR.

    ``time``/``flux`` is the flattened series (ascending time); the observed transits and their
    depths come from the views' diagnostics. At most ``limit`` cut-outs, the first ones in time.
    """
    numbers = np.asarray(diagnostics.get("transit_number") or [], dtype=np.int64)[:limit]
    depths = np.asarray(diagnostics.get("transit_depth") or [], dtype=float)
    errors = np.asarray(diagnostics.get("transit_depth_err") or [], dtype=float)
    cutouts = transit_cutouts(time, flux, tce.period_days, tce.epoch, tce.duration_hours / 24.0, numbers)
    for index, cut in enumerate(cutouts):
        depth = float(depths[index]) if index < depths.size else float("nan")
        err = float(errors[index]) if index < errors.size else float("nan")
        cut["depth"] = depth
        cut["snr"] = depth / err if np.isfinite(err) and err > 0 else float("nan")
    return cutouts


@dataclass(frozen=True)
class TCEMeasures:
    """Depth, SNR and transit count of a TCE for headers: the catalogue's where it has them, else
    our diagnostics' (``*_source`` says which; empty when neither has a value)."""

    depth_ppm: float | None
    depth_source: str
    snr: float | None
    snr_source: str
    n_transits: int | None
    diagnostics_source: str


def tce_measures(*, tce: TCE, presets: tuple[str, ...] = VIEW_PRESETS) -> TCEMeasures:
    latest = tce_diagnostics_latest(tce_id=tce.pk, presets=presets)
    diagnostics, source = ({}, "")
    if latest is not None:
        diagnostics, artifact = latest
        source = f"our diagnostics ({artifact.meta.get('preset', '?')} views v{artifact.version})"

    def measured(key: str, scale: float = 1.0) -> float | None:
        value = diagnostics.get(key)
        return float(value) * scale if isinstance(value, (int, float)) and np.isfinite(value) else None

    depth, depth_source = tce.depth_ppm, "catalogue"
    if depth is None and (depth := measured("depth", 1e6)) is not None:
        depth_source = source
    snr, snr_source = tce.snr, "catalogue (model SNR)"
    if snr is None and (snr := measured("snr")) is not None:
        snr_source = source
    n_transits = diagnostics.get("n_transits")
    return TCEMeasures(
        depth, depth_source if depth is not None else "", snr, snr_source if snr is not None else "",
        int(n_transits) if isinstance(n_transits, int) else None, source,
    )
