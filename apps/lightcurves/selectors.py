"""Reads of light-curve series stored as Parquet, shaped for plots and the API."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow.parquet as pq

from apps.catalog.models import LightCurve
from apps.core.errors import InvalidInput, NotFound
from apps.core.files import resolve_data_path
from apps.lightcurves.science.cleaning import default_bitmask
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


def _read_columns(lightcurve: LightCurve) -> dict[str, np.ndarray]:
    path = resolve_data_path(lightcurve.parquet_path)
    if not path.exists():
        raise NotFound(f"series file for light curve {lightcurve.pk} is missing ({lightcurve.parquet_path})")
    table = pq.read_table(path, columns=SERIES_COLUMNS)
    return {name: table.column(name).to_numpy(zero_copy_only=False) for name in SERIES_COLUMNS}


def lightcurve_series(*, lightcurve: LightCurve, max_points: int | None = 5000, normalise: bool = True) -> Series:
    """PDCSAP series of one quarter/sector; downsampled (min/max per bucket) when ``max_points`` is set."""
    if max_points is not None and max_points < 2:
        raise InvalidInput("max_points must be at least 2")
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
    n_total = int(time.size)
    downsampled = False
    if max_points is not None and n_total > max_points:
        keep = minmax_downsample(time, flux, max_points)
        time, flux, flux_err, quality, flagged = (a[keep] for a in (time, flux, flux_err, quality, flagged))
        downsampled = True
    return Series(time, flux, flux_err, quality, flagged, n_total, downsampled)


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


def tce_views_latest(*, tce_id: int, preset: str) :  # noqa: ANN201 - (arrays, Artifact) or None
    """The newest views of a TCE for a preset (arrays by name) and their artifact, or None."""
    from apps.jobs.models import Artifact

    artifact = Artifact.objects.filter(key=f"tce/{tce_id}/views/{preset}").order_by("-version").first()
    if artifact is None:
        return None
    with np.load(resolve_data_path(artifact.path)) as data:
        arrays = {name: data[name] for name in data.files}
    return arrays, artifact


def flattened_latest(*, target_id: int, preset: str = "gaia"):  # noqa: ANN201
    """The newest flattened series of a target (dict of arrays) and its artifact, or None."""
    from apps.jobs.models import Artifact

    artifact = Artifact.objects.filter(key=f"target/{target_id}/flattened/{preset}").order_by("-version").first()
    if artifact is None:
        return None
    table = pq.read_table(resolve_data_path(artifact.path))
    return {name: table.column(name).to_numpy() for name in table.column_names}, artifact
