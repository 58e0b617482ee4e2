"""Photometry of one leg at every aperture size, its option checks and its tables."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import GalexError
from .imaging import FullDepthImage, Movie, aperture_tag, depth_tag
from .photometry import PIXEL_CONVENTIONS, LightCurveBuilder, find_sources, forced_positions


def write_table(table: pd.DataFrame, path: Path, fmt: str) -> Path:
    """Write a table as CSV or Parquet under a temporary name, then rename it."""
    tmp = path.with_name(f".{path.name}.partial")
    try:
        if fmt == "csv":
            table.to_csv(tmp, index=False)
        else:
            table.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def check_photometry_options(aperture_sizes, pixel_convention, lightcurve_format) -> tuple[float, ...]:
    """Refuse an unknown table format or pixel convention; returns the aperture radii, checked."""
    if lightcurve_format not in ("csv", "parquet"):
        raise GalexError(f"lightcurve_format must be csv or parquet, got {lightcurve_format!r}")
    if pixel_convention not in PIXEL_CONVENTIONS:
        raise GalexError(f"pixel convention must be one of {sorted(PIXEL_CONVENTIONS)}, got {pixel_convention!r}")
    sizes = tuple(float(a) for a in aperture_sizes)
    if not sizes or any(not (0 < a <= 300) for a in sizes) or len(set(sizes)) != len(sizes):
        raise GalexError(f"aperture sizes must be distinct radii in (0, 300] arcsec, got {list(aperture_sizes)}")
    return sizes


def check_positions(positions: pd.DataFrame | None) -> pd.DataFrame | None:
    """Forced-photometry positions as ra (wrapped to [0, 360)), dec and id; None stays None."""
    if positions is None:
        return None
    missing = [c for c in ("ra", "dec") if c not in positions.columns]
    if missing:
        raise GalexError(f"positions lack column(s) {', '.join(missing)} (need ra, dec and optionally id)")
    ra, dec = (pd.to_numeric(positions[c], errors="coerce") for c in ("ra", "dec"))
    if ra.isna().any() or dec.isna().any() or ((dec < -90) | (dec > 90)).any():
        raise GalexError("positions must have numeric ra and dec in degrees (dec within ±90)")
    out = pd.DataFrame({"ra": ra.to_numpy(float) % 360.0, "dec": dec.to_numpy(float)})
    if "id" in positions.columns:
        out["id"] = positions["id"].astype(str).to_numpy()
    return out


class LegPhotometry:
    """Photometry of one leg at every aperture size: full-depth tables now, frames as they come."""

    def __init__(self, image: FullDepthImage, band: str, sizes: tuple[float, ...], positions, convention: str):
        detection = find_sources(image)
        forced = forced_positions(positions, image.geometry, convention) if positions is not None else None
        self.n_forced = 0 if forced is None else len(forced)
        self.builders = {
            size: LightCurveBuilder(image, detection, size, band, forced=forced, pixel_convention=convention)
            for size in sizes
        }

    @property
    def n_sources(self) -> int:
        return len(next(iter(self.builders.values())).table)

    def add_frame(self, k: int, count: np.ndarray, flag: np.ndarray) -> None:
        for builder in self.builders.values():
            builder.add_frame(k, count, flag)

    def write(self, out: Path, prefix: str, leg: int, depth: float | None, ext: str,
              movie: Movie | None = None) -> tuple[list[Path], list[Path]]:  # fmt: skip
        """Write ``...-ffull-b00-image-photom-<aper>`` (and with a movie ``...-f0030-b00-movie-photom-<aper>``)."""
        images, movies = [], []
        for size, builder in self.builders.items():
            tag = aperture_tag(size)
            images.append(write_table(builder.table, out / f"{prefix}-ffull-b{leg:02d}-image-photom-{tag}.{ext}", ext))
            if movie is not None:
                movies.append(write_table(builder.movie_table(movie.tranges, movie.exptimes),
                                           out / f"{prefix}-{depth_tag(depth)}-b{leg:02d}-movie-photom-{tag}.{ext}", ext))  # fmt: skip
        return images, movies
