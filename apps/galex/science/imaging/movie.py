"""Movies: frames of a fixed depth, binned in one streaming pass over the photon list."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ReductionCancelled
from ..threads import prefetched
from .binning import artifact_bits, bin_flags_kernel, bin_kernel
from .exposure import ExposureAccumulator
from .geometry import ImageGeometry
from .image import FullDepthImage
from .photons import iter_photons, on_image, photon_weights
from .products import MovieWriter, ProductMeta, movie_name, product_header, write_fits_product


@dataclass
class Movie:
    """Frame times/exposures of a movie and where it was written."""

    edges: np.ndarray
    exptimes: np.ndarray
    rawexpts: np.ndarray
    shutters: np.ndarray
    paths: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def tranges(self) -> list[tuple[float, float]]:
        return [(float(a), float(b)) for a, b in zip(self.edges[:-1], self.edges[1:], strict=True)]


FrameCallback = Callable[[int, np.ndarray, np.ndarray], None]


def iter_frames(photonlist: Path, geom: ImageGeometry, edges: np.ndarray, batch_rows: int = 500_000,
                should_cancel: Callable[[], bool] | None = None) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:  # fmt: skip
    """Yield ``(k, count, flag)`` for every frame [edges[k], edges[k+1]) in order.

    Photon lists are time-sorted, so frames fill one after another and only the current
    frame is held in memory (plus one batch of events).
    """
    nf = len(edges) - 1
    k = 0
    count = np.zeros((geom.ny, geom.nx), np.float64)
    flag = np.zeros((geom.ny, geom.nx), np.uint8)
    for b in iter_photons(
        photonlist, ["t", "ra", "dec", "flags", "detrad", "mask", "response"], batch_rows
    ):
        if should_cancel is not None and should_cancel():
            raise ReductionCancelled("reduction cancelled while making the movie")
        sel = on_image(b)
        t = b["t"][sel]
        x, y = geom.world_to_pixel(b["ra"][sel], b["dec"][sel])
        w = photon_weights(b["response"][sel])
        bits = artifact_bits(b["mask"][sel], b["flags"][sel], b["detrad"][sel])
        frame_of = np.searchsorted(edges, t, side="right") - 1
        for j in np.unique(frame_of):
            if j < 0 or j >= nf:
                continue
            while k < j:
                yield k, count.astype(np.float32), flag
                count, flag, k = np.zeros_like(count), np.zeros_like(flag), k + 1
            s = frame_of == j
            bin_kernel(x[s], y[s], w[s], count)
            bin_flags_kernel(x[s], y[s], bits[s], flag)
    while k < nf:
        yield k, count.astype(np.float32), flag
        count, flag, k = np.zeros_like(count), np.zeros_like(flag), k + 1


def make_movie(
    photonlist: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    image: FullDepthImage,
    frame_exposure: ExposureAccumulator,
    eclipse: int,
    band: str,
    leg: int,
    depth: float,
    compression: str,
    burst: bool,
    on_frame: FrameCallback | None = None,
    batch_rows: int = 500_000,
    should_cancel: Callable[[], bool] | None = None,
    name_origin: float | None = None,
    prefetch: bool = False,
) -> Movie:
    """Bin, hand to ``on_frame`` (photometry) and write every frame of a depth-``depth`` movie.

    ``burst=False`` writes one FITS file (COUNT and FLAG cubes [frame, y, x], COVERAGE);
    ``burst=True`` writes one file per frame named ``...-t{start offset}-...`` (gPhoton 2), the
    offset from ``name_origin`` (the photon list's first time, as gPhoton 2; default: the first
    frame's start). ``prefetch=True`` (with threads) bins the next frames on a second thread while
    this one photometers, compresses and writes the current one; frames still arrive in order, so
    the products are identical.
    """
    files = _MovieFiles(Path(out_dir), eclipse, band, leg, depth, compression, image)
    edges = frame_exposure.edges
    expt, raw, shutter = frame_exposure.result(band)
    movie = Movie(edges, expt, raw, shutter)
    origin = edges[0] if name_origin is None else name_origin
    writer = None if burst else files.writer(movie)
    try:
        for k, count, flag in _frames(photonlist, image.geometry, edges, batch_rows, should_cancel, prefetch):
            if on_frame is not None:
                on_frame(k, count, flag)
            if writer is not None:
                writer.add(count, flag)
            else:
                movie.paths.append(files.write_frame(movie, k, count, flag, edges[k] - origin))
        if writer is not None:
            _close(writer, movie)
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    return movie


def _frames(photonlist: str | os.PathLike, geom: ImageGeometry, edges: np.ndarray, batch_rows: int,
            should_cancel: Callable[[], bool] | None, prefetch: bool) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:  # fmt: skip
    """The movie's frames, binned here or ahead on a second thread; the cancel check (which may
    read the database) always runs on this thread."""
    if not prefetch:
        yield from iter_frames(Path(photonlist), geom, edges, batch_rows, should_cancel)
        return
    for frame in prefetched(iter_frames(Path(photonlist), geom, edges, batch_rows), depth=2):
        if should_cancel is not None and should_cancel():
            raise ReductionCancelled("reduction cancelled while making the movie")
        yield frame


@dataclass(frozen=True)
class _MovieFiles:
    """Where and how a leg's movie is written: one file, or one file per frame (burst)."""

    out_dir: Path
    eclipse: int
    band: str
    leg: int
    depth: float
    compression: str
    image: FullDepthImage

    def _meta(self, tranges: list[tuple[float, float]], exptimes: list[float]) -> ProductMeta:
        return ProductMeta(self.eclipse, self.band, self.leg, tranges, exptimes,
                           self.image.photon_count, self.image.geometry)  # fmt: skip

    def writer(self, movie: Movie) -> MovieWriter:
        """The streaming writer of the one-file movie (COUNT and FLAG cubes, COVERAGE)."""
        name = movie_name(self.eclipse, self.band, self.leg, self.depth, self.compression)
        meta = self._meta(movie.tranges, list(movie.exptimes))
        return MovieWriter(self.out_dir / name, meta, self.image.coverage, self.compression)

    def write_frame(self, movie: Movie, k: int, count: np.ndarray, flag: np.ndarray, start: float) -> Path:
        """Write frame ``k`` as its own file, named by its ``start`` offset (burst mode)."""
        meta = self._meta([movie.tranges[k]], [float(movie.exptimes[k])])
        name = movie_name(self.eclipse, self.band, self.leg, self.depth, self.compression, start=start)
        planes = [(count, product_header(meta, "COUNT")), (flag, product_header(meta, "FLAG")),
                  (self.image.coverage, product_header(meta, "COVERAGE"))]  # fmt: skip
        return write_fits_product(self.out_dir / name, planes, self.compression)


def _close(writer: MovieWriter, movie: Movie) -> None:
    """Finish the one-file movie; warn when RICE made it assemble the movie in memory."""
    movie.paths.append(writer.close())
    if writer.in_memory_bytes:
        movie.warnings.append(
            f"RICE multi-frame movie assembled in memory ({writer.in_memory_bytes / 2**20:.0f} MiB); "
            "use burst mode to bound memory"
        )
