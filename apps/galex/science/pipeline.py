"""One call that reduces an eclipse: raw6 -> photon lists -> images, movies, light curves.

``reduce_eclipse`` is what the site's ``reduce_eclipse`` actor and the ``galex_reduce``
command call. Stages, reported through ``on_progress(done, total, stage)``: decode,
calibrate, aspect, photon list, image, movie, photometry. ``should_cancel()`` is checked
between chunks and frames. Every product is written to a temporary name and renamed, and
nothing in a product depends on the clock, so a killed job rerun gives identical files.
"""

from __future__ import annotations

import functools
import os
import time
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from astropy.io import fits

from .constants import file_prefix, normalize_band
from .errors import EmptyLeg, GalexError, ProductError
from .imaging import (
    ExposureAccumulator,
    FullDepthImage,
    ImageGeometry,
    Movie,
    PhotonScan,
    check_compression,
    depth_tag,
    image_name,
    make_image,
    make_movie,
    movie_edges,
    write_image,
)
from .leg_photometry import (
    FrameFeed,
    LegPhotometry,
    check_photometry_options,
    check_positions,
    write_table,
)
from .photometry import DEFAULT_APERTURE_ARCSEC
from .photonlist import (
    CancelFn,
    LegStats,
    PhotonListResult,
    ProgressFn,
    make_photonlists,
    photonlist_start_time,
)
from .photonlist.decode import report_progress
from .preview import MoviePreview, write_image_preview
from .results import LegProducts, ReductionResult, library_versions
from .threads import helper_pool, run_on

STAGES = ("decode", "calibrate", "aspect", "photon list", "image", "movie", "photometry")


def _write_image_and_preview(run: _Reduction, image: FullDepthImage, leg: int) -> tuple[Path, Path]:
    """Write the leg's image file and its preview; returns both paths."""
    opts = run.opts
    path = run.out / image_name(run.pl.eclipse, opts.band, leg, opts.compression)
    written = write_image(image, path, eclipse=run.pl.eclipse, band=opts.band, leg=leg,
                          compression=opts.compression)  # fmt: skip
    cards = image.geometry.header_cards()
    preview = write_image_preview(run.out / f"{run.prefix}-ffull-b{leg:02d}-image-preview.npz", image.count,
                                  crval=(cards["CRVAL1"], cards["CRVAL2"]), crpix=(cards["CRPIX1"], cards["CRPIX2"]),
                                  cdelt=(cards["CDELT1"], cards["CDELT2"]))  # fmt: skip
    return written, preview


def _exposure_table(movie: Movie) -> pd.DataFrame:
    """Per-frame exposure of a movie (gPhoton 2's ``-exptime.csv``)."""
    return pd.DataFrame({"t0": movie.edges[:-1], "t1": movie.edges[1:], "expt": movie.exptimes,
                         "rawexpt": movie.rawexpts, "shutter": movie.shutters})  # fmt: skip


def frame_starts_from(folder: str | os.PathLike, eclipse: int, band: str, depth: float) -> dict[int, float]:
    """First frame start per leg of the other band's movie photometry in ``folder`` (gPhoton 2
    ``check_fixed_start_time``: its ``t0_0``), for frames common to NUV and FUV; {} if none."""
    other = "FUV" if normalize_band(band) == "NUV" else "NUV"
    prefix = file_prefix(eclipse, other)
    starts: dict[int, float] = {}
    for path in sorted(Path(folder).glob(f"{prefix}-{depth_tag(depth)}-b*-movie-photom-*")):
        leg = int(path.name[len(prefix) + len(depth_tag(depth)) + 3 :][:2])
        if leg in starts:
            continue
        if path.suffix == ".csv":
            table = pd.read_csv(path, usecols=["t0_0"], nrows=1)
        else:
            table = pq.read_table(path, columns=["t0_0"]).to_pandas()
        if len(table):
            starts[leg] = float(table["t0_0"].iloc[0])
    return starts


def reduce_eclipse(
    raw6_path: str | os.PathLike,
    aspect_path: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    band: str = "NUV",
    depth: float | None = 30,
    compression: str = "gzip",
    burst: bool = False,
    cal_dir: str | os.PathLike,
    on_progress: ProgressFn | None = None,
    should_cancel: CancelFn | None = None,
    aperture_sizes: tuple[float, ...] = (DEFAULT_APERTURE_ARCSEC,),
    positions: pd.DataFrame | None = None,
    pixel_convention: str = "gaia",
    frame_starts: dict[int, float] | None = None,
    lightcurve_format: str = "csv",
    chunk_size: int = 500_000,
    threads: int = 1,
) -> ReductionResult:
    """Reduce one eclipse and band end to end.

    Parameters
    ----------
    raw6_path : path to the gzip FITS raw6 file.
    aspect_path : aspect tables (see :func:`.aspect.load_aspect_tables`).
    out_dir : where products go (created if missing).
    band : "NUV" or "FUV"; must match the raw6 header.
    depth : movie frame length in seconds; None makes images and image photometry only.
    compression : "gzip", "rice" or "none" for images and movies.
    burst : write one movie file per frame (bounded memory even with RICE).
    cal_dir : gPhoton 2 calibration folder.
    on_progress, should_cancel : job hooks (see module docstring).
    aperture_sizes : photometry aperture radii, arcsec; one table per size.
    positions : DataFrame with ra, dec (deg) and optionally id: forced photometry there too.
    pixel_convention : "gaia" (0-based, exact) or "gphoton2" (gPhoton 2's one-pixel offset).
    frame_starts : leg -> first frame start (GALEX s), to put frames on another band's grid
        (gPhoton 2 ``coregister_lightcurves``; see :func:`frame_starts_from`).
    lightcurve_format : "csv" or "parquet".
    chunk_size : events per chunk (memory scales with it).

    Returns
    -------
    ReductionResult listing every product path, warnings (e.g. identity walk/distortion)
    and provenance (inputs, calibration files, parameters, library versions).
    """
    opts = ReduceOptions(
        band=band, depth=depth, compression=compression, burst=burst, aperture_sizes=aperture_sizes,
        positions=positions, pixel_convention=pixel_convention, frame_starts=frame_starts or {},
        lightcurve_format=lightcurve_format, chunk_size=chunk_size, threads=threads,
        on_progress=on_progress, should_cancel=should_cancel,
    ).checked()  # fmt: skip
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    clock, cpu = time.perf_counter(), time.process_time()
    pl = make_photonlists(raw6_path, aspect_path, out, band=opts.band, cal_dir=cal_dir,
                          chunk_size=opts.chunk_size, on_progress=opts.on_progress,
                          should_cancel=opts.should_cancel, threads=opts.threads)  # fmt: skip
    run = _Reduction(opts, out, pl, list(pl.warnings))
    run.timings["photon list"] = time.perf_counter() - clock
    run.timings["photon list cpu"] = time.process_time() - cpu
    legs = [_reduce_leg(run, stats) for stats in pl.legs]
    return ReductionResult(pl.eclipse, opts.band, out, legs, pl.n_events, pl.n_kept, run.warnings,
                           _provenance(run), {k: round(v, 3) for k, v in run.timings.items()})  # fmt: skip


@dataclass(frozen=True, eq=False)
class ReduceOptions:
    """The parameters of :func:`reduce_eclipse` besides its paths; :meth:`checked` validates."""

    band: str
    depth: float | None
    compression: str
    burst: bool
    aperture_sizes: tuple[float, ...]
    positions: pd.DataFrame | None
    pixel_convention: str
    frame_starts: dict[int, float]
    lightcurve_format: str
    chunk_size: int
    threads: int
    on_progress: ProgressFn | None = None
    should_cancel: CancelFn | None = None

    def checked(self) -> ReduceOptions:
        """The same options, checked and normalised (band name, aperture sizes, positions)."""
        band = normalize_band(self.band)
        check_compression(self.compression)
        sizes = check_photometry_options(self.aperture_sizes, self.pixel_convention,
                                          self.lightcurve_format)  # fmt: skip
        positions = check_positions(self.positions)
        if self.depth is not None and not self.depth > 0:
            raise GalexError(f"depth must be a positive number of seconds, got {self.depth}")
        if not 1 <= int(self.threads) <= 64:
            raise GalexError(f"threads must be between 1 and 64, got {self.threads}")
        return replace(self, band=band, aperture_sizes=sizes, positions=positions)


@dataclass
class _Reduction:
    """One :func:`reduce_eclipse` run: its options, folder, photon lists and what the legs add."""

    opts: ReduceOptions
    out: Path
    pl: PhotonListResult
    warnings: list[str]
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def prefix(self) -> str:
        return file_prefix(self.pl.eclipse, self.opts.band)

    @functools.cached_property
    def start_time(self) -> float | None:
        """gPhoton 2's ctx.start_time: burst frames are named by their offset from it."""
        return photonlist_start_time(self.pl.legs[0].path) if self.pl.legs else None

    def report(self, done: int, total: int, stage: str) -> None:
        report_progress(self.opts.on_progress, done, total, stage)


@dataclass
class _LegWork:
    """One leg in flight: its photon list, image, frame edges and (maybe pending) photometry."""

    stats: LegStats
    image: FullDepthImage
    frame_exposure: ExposureAccumulator | None
    edges: np.ndarray | None
    photometry: Future
    products: LegProducts


def _reduce_leg(run: _Reduction, stats: LegStats) -> LegProducts:
    """Image, movie and photometry of one leg.

    With threads, the image is compressed and written, and the sources detected, while this
    thread makes the movie; frame photometry waits for the sources (frames kept sparse).
    """
    opts, clock = run.opts, time.perf_counter()
    image, frame_exposure, edges = _leg_image(run, stats)
    # two workers at least, so that the image write does not wait behind the detection
    with helper_pool(max(2, opts.threads - 1) if opts.threads > 1 else 0) as pool:
        # detection first: it is the longest of the two
        measured = run_on(pool, LegPhotometry, image, opts.band, opts.aperture_sizes, opts.positions,
                        opts.pixel_convention, opts.threads)  # fmt: skip
        written = run_on(pool, _write_image_and_preview, run, image, stats.leg)
        run.timings[f"image leg {stats.leg}"] = time.perf_counter() - clock
        run.report(1, 1, "image")
        clock = time.perf_counter()
        work = _LegWork(stats, image, frame_exposure, edges, measured,
                        LegProducts(stats.leg, stats.path, Path()))  # fmt: skip
        movie = _leg_movie(run, work) if opts.depth else None
        photometry = measured.result()
        work.products.image, work.products.image_preview = written.result()
    run.timings[f"movie and photometry leg {stats.leg}"] = time.perf_counter() - clock
    products = work.products
    products.n_sources, products.n_forced = photometry.n_sources, photometry.n_forced
    products.photon_count, products.exptime = image.photon_count, image.exptime
    products.image_photometry, products.movie_photometry = photometry.write(
        run.out, run.prefix, stats.leg, opts.depth, opts.lightcurve_format, movie
    )
    run.report(1, 1, "photometry")
    return products


def _leg_image(run: _Reduction, stats: LegStats) -> tuple[FullDepthImage, ExposureAccumulator | None, np.ndarray | None]:  # fmt: skip
    """The leg's full-depth image, with its movie-frame exposures and edges (None without a movie)."""
    opts = run.opts
    bounds = stats.sky_bounds()
    if bounds is None:
        raise EmptyLeg(
            f"eclipse {run.pl.eclipse} leg {stats.leg}: no usable events (all flagged or off the detector)"
        )
    scan = PhotonScan(stats.t_min, stats.t_max, bounds, stats.n_on_image)
    leg_info = next(lg for lg in run.pl.aspect.legs if lg.index == stats.leg)
    pointing = (
        run.pl.aspect.ra[leg_info.first : leg_info.last + 1],
        run.pl.aspect.dec[leg_info.first : leg_info.last + 1],
    )
    first = opts.frame_starts.get(stats.leg, scan.t_min)
    edges = movie_edges(first, scan.t_max, opts.depth) if opts.depth else None
    image, frame_exposure = make_image(stats.path, band=opts.band, scan=scan, pointing=pointing,
                                       frame_edges=edges, batch_rows=opts.chunk_size,
                                       should_cancel=opts.should_cancel, prefetch=opts.threads > 1)  # fmt: skip
    if image.n_zero_response:
        run.warnings.append(
            f"leg {stats.leg}: {image.n_zero_response} events on zero-flat pixels got weight 0"
        )
    return image, frame_exposure, edges


def _leg_movie(run: _Reduction, work: _LegWork) -> Movie:
    """Make the leg's movie, feeding each frame to the photometry (see :class:`FrameFeed`: held
    until the sources are known), the preview and the progress report."""
    opts, leg = run.opts, work.stats.leg
    n_frames = len(work.edges) - 1
    preview = MoviePreview(work.image.count.shape, run.out)
    feed = FrameFeed(work.photometry, work.image.count.shape)

    def on_frame(k, count, flag):
        feed.add(k, count, flag)
        preview.add(count)
        run.report(k + 1, n_frames, "movie")

    try:
        movie = make_movie(work.stats.path, run.out, image=work.image, frame_exposure=work.frame_exposure,
                           eclipse=run.pl.eclipse, band=opts.band, leg=leg, depth=opts.depth,
                           compression=opts.compression, burst=opts.burst, on_frame=on_frame,
                           batch_rows=opts.chunk_size, should_cancel=opts.should_cancel,
                           name_origin=run.start_time, prefetch=opts.threads > 1)  # fmt: skip
        feed.finish()
    except BaseException:
        preview.close()
        feed.abandon()
        raise
    run.warnings += movie.warnings
    stem = f"{run.prefix}-{depth_tag(opts.depth)}-b{leg:02d}"
    work.products.movie, work.products.n_frames = movie.paths, n_frames
    work.products.movie_preview = preview.write(run.out / f"{stem}-movie-preview.npy")
    work.products.exposure_table = write_table(_exposure_table(movie), run.out / f"{stem}-exptime.csv", "csv")
    return movie


def _provenance(run: _Reduction) -> dict:
    opts = run.opts
    return {
        **run.pl.provenance,
        "parameters": {
            "depth": opts.depth,
            "compression": opts.compression,
            "burst": opts.burst,
            "aperture_sizes": list(opts.aperture_sizes),
            "pixel_convention": opts.pixel_convention,
            "forced_positions": 0 if opts.positions is None else len(opts.positions),
            "frame_starts": {str(k): v for k, v in opts.frame_starts.items()},
            "lightcurve_format": opts.lightcurve_format,
            "chunk_size": opts.chunk_size,
        },  # fmt: skip
        "software": library_versions(),
        "conventions": "gPhoton 2 v3.0.0a0 (MillionConcepts/gPhoton2@d0766ac), reimplemented",
        "warnings": run.warnings,
    }


def _read_planes(path: Path) -> tuple[fits.Header, dict[str, np.ndarray]]:
    with fits.open(path) as hdul:
        planes = {hdu.name: np.asarray(hdu.data) for hdu in hdul[1:] if hdu.data is not None}
        header = next(hdu.header for hdu in hdul[1:] if hdu.name == "COUNT")
    return header, planes


def photometry_only(
    out_dir: str | os.PathLike,
    *,
    band: str = "NUV",
    depth: float | None = 30,
    aperture_sizes: tuple[float, ...] = (DEFAULT_APERTURE_ARCSEC,),
    positions: pd.DataFrame | None = None,
    pixel_convention: str = "gaia",
    lightcurve_format: str = "csv",
) -> ReductionResult:
    """Photometry again on the images and movies already in ``out_dir`` (gPhoton 2
    ``photometry_only``): sources detected on each leg's image, apertures on the image and on
    every frame of the movie at ``depth`` (one file or burst frames), with the frame times and
    exposures of the movie's header. Nothing but the photometry tables is written.
    """
    band = normalize_band(band)
    sizes = check_photometry_options(aperture_sizes, pixel_convention, lightcurve_format)
    positions = check_positions(positions)
    out = Path(out_dir).resolve()
    letter = band[0].lower()
    images = sorted(out.glob(f"e*-{letter}d-ffull-b*-image-*.fits*"))
    if not images:
        raise ProductError(f"no {band} image in {out}: reduce the eclipse first")
    legs, eclipse = [], None
    for image_path in images:
        eclipse, leg, image = _image_from_file(image_path)
        photometry = LegPhotometry(image, band, sizes, positions, pixel_convention)
        prefix = file_prefix(eclipse, band)
        movie = _movie_from_files(out, prefix, leg, depth, photometry) if depth else None
        products = LegProducts(leg, Path(), image_path, n_sources=photometry.n_sources, photon_count=image.photon_count,
                               exptime=image.exptime, n_forced=photometry.n_forced)  # fmt: skip
        products.image_photometry, products.movie_photometry = photometry.write(out, prefix, leg, depth,
                                                                                lightcurve_format, movie)  # fmt: skip
        if movie is not None:
            products.n_frames = len(movie.exptimes)
        legs.append(products)
    provenance = {"parameters": {"photometry_only": True, "depth": depth, "aperture_sizes": list(sizes),
                                 "pixel_convention": pixel_convention,
                                 "forced_positions": 0 if positions is None else len(positions)},
                  "software": library_versions()}  # fmt: skip
    return ReductionResult(eclipse, band, out, legs, 0, 0, [], provenance, {})


def _image_from_file(image_path: Path) -> tuple[int, int, FullDepthImage]:
    """(eclipse, leg, image) of an image file written by :func:`reduce_eclipse`."""
    header, planes = _read_planes(image_path)
    count = planes["COUNT"].astype(np.float32)
    geometry = ImageGeometry(float(header["CRVAL1"]), float(header["CRVAL2"]), *count.shape)
    image = FullDepthImage(geometry, count, planes["FLAG"].astype(np.uint8), planes["COVERAGE"].astype(np.uint8),
                           np.zeros((1, 1), np.float32), (float(header["T0_0"]), float(header["T1_0"])),
                           float(header["XPOSURE"]), float(header["XPOSURE"]), 0.0, int(header["PHOTCNT"]),
                           (0.0, 0.0), path=image_path)  # fmt: skip
    return int(header["ECLIPSE"]), int(header["LEG"]), image


def _movie_from_files(out: Path, prefix: str, leg: int, depth: float, photometry: LegPhotometry) -> Movie:
    dtag = depth_tag(depth)
    single = sorted(out.glob(f"{prefix}-{dtag}-b{leg:02d}-movie-*.fits*"))
    frames = single[:1] or sorted(out.glob(f"{prefix}-{dtag}-b{leg:02d}-t*-*.fits*"))
    if not frames:
        raise ProductError(f"no {dtag} movie of leg {leg} in {out}: reduce with that depth first")
    tranges, exptimes, k = [], [], 0
    for path in frames:
        header, planes = _read_planes(path)
        counts, flags = planes["COUNT"], planes["FLAG"]
        if counts.ndim == 2:
            counts, flags = counts[None], flags[None]
        for j in range(counts.shape[0]):
            photometry.add_frame(k, counts[j].astype(np.float32), flags[j].astype(np.uint8))
            index = j if len(frames) == 1 else 0
            tranges.append((float(header[f"T0_{index}"]), float(header[f"T1_{index}"])))
            exptimes.append(float(header[f"EXPT_{index}"]))
            k += 1
    edges = np.array([t0 for t0, _ in tranges] + [tranges[-1][1]])
    zeros = np.zeros(len(exptimes))
    return Movie(edges, np.asarray(exptimes), zeros, zeros, list(frames))
