"""Photometry of one leg at every aperture size, its option checks and its tables."""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Executor, Future
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


class _SparseFrames:
    """Movie frames kept as their non-zero pixels until the sources are known (gPhoton 2 holds
    its frames as sparse matrices too): a 30-s frame of a MIS field is a few per cent non-zero."""

    def __init__(self) -> None:
        self._frames: deque[tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = deque()

    def add(self, k: int, count: np.ndarray, flag: np.ndarray) -> None:
        where, fwhere = np.flatnonzero(count), np.flatnonzero(flag)
        self._frames.append((k, where, count.reshape(-1)[where], fwhere, flag.reshape(-1)[fwhere]))

    def frames(self, shape: tuple[int, int]) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        """``(k, count, flag)`` dense again, one at a time (each is dropped once given)."""
        while self._frames:
            k, where, values, fwhere, fvalues = self._frames.popleft()
            count = np.zeros(shape, np.float32)
            flag = np.zeros(shape, np.uint8)
            count.reshape(-1)[where], flag.reshape(-1)[fwhere] = values, fvalues
            yield k, count, flag


class FrameFeed:
    """Hands each movie frame to the leg's photometry.

    Without a pool the photometry is ready and each frame is measured here. With one, the sources
    are still being detected on the pool when the first frames come: those wait sparse; once the
    detection is done, they and every later frame are measured on the pool when its last frame is
    done, else on this thread (one frame pending at most, so memory stays bounded and neither
    thread waits). Frames are keyed by their index, so the tables are the same whatever the order.
    """

    def __init__(self, photometry: Future, pool: Executor | None, shape: tuple[int, int]) -> None:
        self.photometry, self.pool, self.shape = photometry, pool, shape
        self.held = _SparseFrames()
        self.pending: deque[Future] = deque()

    def add(self, k: int, count: np.ndarray, flag: np.ndarray) -> None:
        if self.pool is None:
            self.photometry.result().add_frame(k, count, flag)
        elif not self.photometry.done():
            self.held.add(k, count, flag)
        else:
            for frame in self.held.frames(self.shape):
                self._measure(*frame)
            self._measure(k, count, flag)

    def _measure(self, k: int, count: np.ndarray, flag: np.ndarray) -> None:
        """On the pool if the last frame sent there is done, else here: neither thread waits."""
        while self.pending and self.pending[0].done():
            self.pending.popleft().result()
        if self.pending:
            self.photometry.result().add_frame(k, count, flag)
        else:
            self.pending.append(self.pool.submit(self.photometry.result().add_frame, k, count, flag))

    def finish(self) -> None:
        """Measure what is still held (here and on the pool) and wait for the pool."""
        if self.pool is None:
            return
        for frame in self.held.frames(self.shape):
            self._measure(*frame)
        while self.pending:
            self.pending.popleft().result()

    def abandon(self) -> None:
        """The movie failed: drop what is held and pending."""
        for future in self.pending:
            future.cancel()
        self.pending.clear()
        self.held = _SparseFrames()
