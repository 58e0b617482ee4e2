"""Full-depth image (+ frame exposures in the same pass)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ReductionCancelled
from ..threads import helper_pool, prefetched, run_on
from .binning import artifact_bits, bin_flags_kernel, bin_kernel, dose_kernel
from .exposure import ExposureAccumulator
from .geometry import ImageGeometry, bounding_geometry, coverage_map
from .photons import (
    IMAGE_COLUMNS,
    PhotonScan,
    iter_photons,
    on_image,
    photon_weights,
    scan_photonlist,
)
from .products import ProductMeta, product_header, write_fits_product


@dataclass
class FullDepthImage:
    """Arrays and bookkeeping of a full-depth image (planes shape (ny, nx))."""

    geometry: ImageGeometry
    count: np.ndarray  # float32, sum of 1/response
    flag: np.ndarray  # uint8 artifact bits
    coverage: np.ndarray  # uint8 coverage bits
    dose: np.ndarray  # float32 (3200, 3200), detector col*4, row*4
    t_range: tuple[float, float]
    exptime: float
    rawexpt: float
    shutter: float
    photon_count: int
    coverage_areas: tuple[float, float]
    n_zero_response: int = 0
    path: Path | None = None


def make_image(
    photonlist: str | os.PathLike,
    *,
    band: str,
    scan: PhotonScan | None = None,
    pointing: tuple[np.ndarray, np.ndarray] | None = None,
    frame_edges: np.ndarray | None = None,
    batch_rows: int = 500_000,
    should_cancel: Callable[[], bool] | None = None,
    prefetch: bool = False,
) -> tuple[FullDepthImage, ExposureAccumulator | None]:
    """Bin a photon list into a full-depth image; accumulate movie-frame exposures on the way.

    Parameters
    ----------
    photonlist : path to one leg's photon list.
    band : "NUV" or "FUV" (dead-time model).
    scan : time range and sky bounds of on-image events (computed if omitted).
    pointing : (ra, dec) arrays of the leg's aspect records, for the COVERAGE plane;
        without it COVERAGE is all 8|4|2 (fully covered), as gPhoton's coverage_map=False
        would leave it 0.
    frame_edges : movie frame edges (s), optional; their exposures are accumulated too.
    prefetch : read and project the next batches on a second thread while this one bins
        (``--threads`` > 1); the sums are made in the same order, so the image is identical.
    """
    path = Path(photonlist)
    scan = scan or scan_photonlist(path, batch_rows)
    geom = bounding_geometry(*scan.bounds)
    planes = _ImagePlanes(geom)
    image_exp = ExposureAccumulator(np.array([scan.t_min, scan.t_max]))
    frame_exp = ExposureAccumulator(frame_edges) if frame_edges is not None else None
    batches = (_project(b, geom) for b in iter_photons(path, IMAGE_COLUMNS, batch_rows))
    # the coverage needs only the pointing: with threads, made beside the pass (nogil kernel)
    with helper_pool(1 if prefetch else 0, "galex-coverage") as pool:
        coverage_of = run_on(pool, _coverage, geom, pointing)
        for b in prefetched(batches, depth=2) if prefetch else batches:
            if should_cancel is not None and should_cancel():
                raise ReductionCancelled("reduction cancelled while making the image")
            image_exp.add(b.t, b.flags)
            if frame_exp is not None:
                frame_exp.add(b.t, b.flags)
            planes.add(b)
        coverage, part, full = coverage_of.result()
    expt, raw, shutter = image_exp.result(band)
    count32 = planes.count.astype(np.float32)
    del planes.count
    image = FullDepthImage(geom, count32, planes.flag, coverage, planes.dose, (scan.t_min, scan.t_max),
                           float(expt[0]), float(raw[0]), float(shutter[0]), planes.n_selected, (part, full),
                           planes.n_zero)  # fmt: skip
    return image, frame_exp


class _ImagePlanes:
    """COUNT (float64 while summing), FLAG and DOSE planes of an image, filled batch by batch."""

    def __init__(self, geom: ImageGeometry):
        self.geom = geom
        self.count = np.zeros((geom.ny, geom.nx), np.float64)
        self.flag = np.zeros((geom.ny, geom.nx), np.uint8)
        self.dose = np.zeros((3200, 3200), np.float32)  # exact counts up to 2**24 per cell
        self.n_selected = self.n_zero = 0

    def add(self, b: _Projected) -> None:
        """Bin one batch's on-image events."""
        self.n_zero += b.n_zero
        if not b.w.size:
            return
        bin_kernel(b.x, b.y, b.w, self.count)
        bin_flags_kernel(b.x, b.y, b.bits, self.flag)
        dose_kernel(b.col, b.row, self.dose)
        self.n_selected += int(b.w.size)


@dataclass(frozen=True)
class _Projected:
    """One batch ready to bin: times and flags of all its events (exposure), pixel positions,
    weights, artifact bits and detector positions of its on-image ones."""

    t: np.ndarray
    flags: np.ndarray
    x: np.ndarray
    y: np.ndarray
    w: np.ndarray
    bits: np.ndarray
    col: np.ndarray
    row: np.ndarray
    n_zero: int


def _project(b: dict[str, np.ndarray], geom: ImageGeometry) -> _Projected:
    """What binning a batch needs, computed apart from the sums (so it can run ahead on a thread)."""
    sel = on_image(b)
    x, y = geom.world_to_pixel(b["ra"][sel], b["dec"][sel])
    w = photon_weights(b["response"][sel])
    bits = artifact_bits(b["mask"][sel], b["flags"][sel], b["detrad"][sel])
    return _Projected(b["t"], b["flags"], x, y, w, bits, b["col"][sel], b["row"][sel], int((w == 0).sum()))


def _coverage(geom: ImageGeometry, pointing: tuple[np.ndarray, np.ndarray] | None):
    """COVERAGE plane and its (partial, full) areas; all 8|4|2 without a pointing."""
    if pointing is not None:
        return coverage_map(geom, *pointing)
    return np.full((geom.ny, geom.nx), 14, np.uint8), 0.0, 0.0


def write_image(
    image: FullDepthImage, path: Path, *, eclipse: int, band: str, leg: int, compression: str
) -> Path:
    """Write COUNT, FLAG, DOSE and COVERAGE HDUs (gPhoton 2 image layout: readers use 1, 2, 4)."""
    meta = ProductMeta(eclipse, band, leg, [image.t_range], [image.exptime], image.photon_count,
                       image.geometry, image.coverage_areas)  # fmt: skip
    planes = [(image.count, product_header(meta, "COUNT")), (image.flag, product_header(meta, "FLAG")),
              (image.dose, product_header(meta, "DOSE")), (image.coverage, product_header(meta, "COVERAGE"))]  # fmt: skip
    image.path = write_fits_product(path, planes, compression)
    return image.path
