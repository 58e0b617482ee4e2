"""Photometry of one leg at every aperture size, its option checks and its tables."""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path

import numpy as np
import pandas as pd
from numba import njit

from .errors import GalexError
from .imaging import FullDepthImage, Movie, aperture_tag, depth_tag
from .photometry import (
    PIXEL_CONVENTIONS,
    Detection,
    LightCurveBuilder,
    find_sources,
    forced_positions,
)
from .threads import helper_pool


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

    def __init__(self, image: FullDepthImage, band: str, sizes: tuple[float, ...], positions, convention: str,
                 threads: int = 1) -> None:  # fmt: skip
        detection = _detect(image, threads)
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


def _detect(image: FullDepthImage, threads: int) -> Detection:
    """The leg's sources; with threads, the detection's GIL-free steps run side by side."""
    with helper_pool(1 if threads > 1 else 0, "galex-detect") as pool:
        return find_sources(image, pool)


def sparse_nonzero(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(where, kept)``: the flat indices (int32) and values of the non-zero elements of a
    C-contiguous array; :func:`numpy.flatnonzero` and a gather (the reference) in one pass."""
    flat = np.ascontiguousarray(values).reshape(-1)
    if flat.size >= 2**31:
        raise ValueError(f"{flat.size} elements: too many for int32 indices")
    return _sparse_nonzero_kernel(flat)


@njit(cache=True, nogil=True)
def _sparse_nonzero_kernel(flat):
    n = 0
    for i in range(flat.size):
        if flat[i] != 0:
            n += 1
    where = np.empty(n, np.int32)
    kept = np.empty(n, flat.dtype)
    j = 0
    for i in range(flat.size):
        if flat[i] != 0:
            where[j] = i
            kept[j] = flat[i]
            j += 1
    return where, kept


class _SparseFrames:
    """Movie frames kept as their non-zero pixels until the sources are known (gPhoton 2 holds
    its frames as sparse matrices too): a 30-s frame of a MIS field is a few per cent non-zero."""

    def __init__(self, shape: tuple[int, int]) -> None:
        self.shape = shape
        self._frames: deque[tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = deque()

    def __len__(self) -> int:
        return len(self._frames)

    def add(self, k: int, count: np.ndarray, flag: np.ndarray) -> None:
        self._frames.append((k, *sparse_nonzero(count), *sparse_nonzero(flag)))

    def frames(self) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        """``(k, count, flag)`` dense again, one at a time, in one pair of planes that is
        reused: each frame is valid until the next is asked for."""
        count = np.zeros(self.shape, np.float32)
        flag = np.zeros(self.shape, np.uint8)
        while self._frames:
            k, where, values, fwhere, fvalues = self._frames.popleft()
            count.reshape(-1)[where], flag.reshape(-1)[fwhere] = values, fvalues
            yield k, count, flag
            count.reshape(-1)[where], flag.reshape(-1)[fwhere] = 0, 0


class FrameFeed:
    """Hands each movie frame to the leg's photometry, on this thread.

    The sources may still be being detected (on a pool) when the first frames come: those wait
    sparse and are measured once the detection is done. Frames are keyed by their index, so the
    tables are the same whatever the order. Measuring a frame costs a few milliseconds (see
    :mod:`.apertures`), so no other thread is needed for it.
    """

    def __init__(self, photometry: Future, shape: tuple[int, int]) -> None:
        self.photometry = photometry
        self.held = _SparseFrames(shape)

    def add(self, k: int, count: np.ndarray, flag: np.ndarray) -> None:
        if not self.photometry.done():
            self.held.add(k, count, flag)
            return
        self._release_held()
        self.photometry.result().add_frame(k, count, flag)

    def _release_held(self) -> None:
        if len(self.held):
            photometry = self.photometry.result()
            for frame in self.held.frames():
                photometry.add_frame(*frame)

    def finish(self) -> None:
        """Measure what is still held (waits for the detection)."""
        self._release_held()

    def abandon(self) -> None:
        """The movie failed: drop what is held."""
        self.held = _SparseFrames(self.held.shape)
