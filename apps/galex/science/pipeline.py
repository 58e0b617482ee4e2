"""One call that reduces an eclipse: raw6 -> photon lists -> images, movies, light curves.

``reduce_eclipse`` is what the site's ``reduce_eclipse`` actor and the ``galex_reduce``
command call. Stages, reported through ``on_progress(done, total, stage)``: decode,
calibrate, aspect, photon list, image, movie, photometry. ``should_cancel()`` is checked
between chunks and frames. Every product is written to a temporary name and renamed, and
nothing in a product depends on the clock, so a killed job rerun gives identical files.
"""

from __future__ import annotations

import importlib.metadata
import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from astropy.io import fits

from .constants import file_prefix, normalize_band
from .errors import EmptyLeg, GalexError, ProductError
from .imaging import (
    COMPRESSIONS,
    FullDepthImage,
    ImageGeometry,
    Movie,
    PhotonScan,
    aperture_tag,
    depth_tag,
    image_name,
    make_image,
    make_movie,
    movie_edges,
    write_image,
)
from .photometry import (
    DEFAULT_APERTURE_ARCSEC,
    PIXEL_CONVENTIONS,
    LightCurveBuilder,
    find_sources,
    forced_positions,
)
from .photonlist import CancelFn, ProgressFn, make_photonlists, photonlist_start_time
from .preview import MoviePreview, write_image_preview

STAGES = ("decode", "calibrate", "aspect", "photon list", "image", "movie", "photometry")


@dataclass
class LegProducts:
    """Files written for one leg (paths are absolute)."""

    leg: int
    photonlist: Path
    image: Path
    movie: list[Path] = field(default_factory=list)
    image_photometry: list[Path] = field(default_factory=list)  # one per aperture size
    movie_photometry: list[Path] = field(default_factory=list)
    exposure_table: Path | None = None
    image_preview: Path | None = None
    movie_preview: Path | None = None
    n_forced: int = 0
    n_sources: int = 0
    photon_count: int = 0
    exptime: float = 0.0
    n_frames: int = 0


@dataclass
class ReductionResult:
    """What :func:`reduce_eclipse` produced, with warnings and provenance for the Artifacts."""

    eclipse: int
    band: str
    out_dir: Path
    legs: list[LegProducts]
    n_events: int
    n_kept: int
    warnings: list[str]
    provenance: dict
    timings: dict[str, float]

    def product_paths(self) -> dict[str, list[Path]]:
        """Paths by product kind: photonlist, image, movie, image_photometry, movie_photometry, exposure,
        image_preview, movie_preview (see :mod:`.preview`)."""
        kinds: dict[str, list[Path]] = {k: [] for k in
                                        ("photonlist", "image", "movie", "image_photometry", "movie_photometry", "exposure",
                                         "image_preview", "movie_preview")}  # fmt: skip
        for leg in self.legs:
            if leg.photonlist != Path():
                kinds["photonlist"].append(leg.photonlist)
            kinds["image"].append(leg.image)
            kinds["movie"] += leg.movie
            kinds["image_photometry"] += leg.image_photometry
            kinds["movie_photometry"] += leg.movie_photometry
            for kind, path in (("exposure", leg.exposure_table), ("image_preview", leg.image_preview),
                               ("movie_preview", leg.movie_preview)):  # fmt: skip
                if path is not None:
                    kinds[kind].append(path)
        return kinds


def _versions() -> dict[str, str]:
    out = {}
    for name in ("numpy", "numba", "astropy", "photutils", "pyarrow", "pandas", "scipy"):
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "absent"
    return out


def _write_table(table: pd.DataFrame, path: Path, fmt: str) -> Path:
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


def _check_photometry_options(aperture_sizes, pixel_convention, lightcurve_format) -> tuple[float, ...]:
    if lightcurve_format not in ("csv", "parquet"):
        raise GalexError(f"lightcurve_format must be csv or parquet, got {lightcurve_format!r}")
    if pixel_convention not in PIXEL_CONVENTIONS:
        raise GalexError(f"pixel convention must be one of {sorted(PIXEL_CONVENTIONS)}, got {pixel_convention!r}")
    sizes = tuple(float(a) for a in aperture_sizes)
    if not sizes or any(not (0 < a <= 300) for a in sizes) or len(set(sizes)) != len(sizes):
        raise GalexError(f"aperture sizes must be distinct radii in (0, 300] arcsec, got {list(aperture_sizes)}")
    return sizes


def _check_positions(positions: pd.DataFrame | None) -> pd.DataFrame | None:
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


class _LegPhotometry:
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
            images.append(_write_table(builder.table, out / f"{prefix}-ffull-b{leg:02d}-image-photom-{tag}.{ext}", ext))
            if movie is not None:
                movies.append(_write_table(builder.movie_table(movie.tranges, movie.exptimes),
                                           out / f"{prefix}-{depth_tag(depth)}-b{leg:02d}-movie-photom-{tag}.{ext}", ext))  # fmt: skip
        return images, movies


class _Done:
    """What :func:`_run` returns without a pool: the value, behind the Future interface."""

    def __init__(self, value) -> None:  # noqa: ANN001
        self.value = value

    def result(self):  # noqa: ANN201
        return self.value


def _run(pool: ThreadPoolExecutor | None, fn, *args):  # noqa: ANN001, ANN202
    """``fn(*args)`` on the pool (a Future), or here and now (the same interface)."""
    return pool.submit(fn, *args) if pool is not None else _Done(fn(*args))


def _write_image_and_preview(image, path, preview_path, eclipse, band, leg, compression) -> tuple[Path, Path]:  # noqa: ANN001
    written = write_image(image, path, eclipse=eclipse, band=band, leg=leg, compression=compression)
    cards = image.geometry.header_cards()
    preview = write_image_preview(preview_path, image.count, crval=(cards["CRVAL1"], cards["CRVAL2"]),
                                  crpix=(cards["CRPIX1"], cards["CRPIX2"]), cdelt=(cards["CDELT1"], cards["CDELT2"]))  # fmt: skip
    return written, preview


class _SparseFrames:
    """Movie frames kept as their non-zero pixels until the sources are known (gPhoton 2 holds
    its frames as sparse matrices too): a 30-s frame of a MIS field is a few per cent non-zero."""

    def __init__(self) -> None:
        self._frames: list[tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    def add(self, k: int, count: np.ndarray, flag: np.ndarray) -> None:
        where, fwhere = np.flatnonzero(count), np.flatnonzero(flag)
        self._frames.append((k, where, count.reshape(-1)[where], fwhere, flag.reshape(-1)[fwhere]))

    def frames(self, shape: tuple[int, int]) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        """``(k, count, flag)`` dense again, one at a time (each is dropped once given)."""
        while self._frames:
            k, where, values, fwhere, fvalues = self._frames.pop(0)
            count = np.zeros(shape, np.float32)
            flag = np.zeros(shape, np.uint8)
            count.reshape(-1)[where], flag.reshape(-1)[fwhere] = values, fvalues
            yield k, count, flag


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
    band = normalize_band(band)
    if compression not in COMPRESSIONS:
        raise GalexError(f"compression must be one of {sorted(COMPRESSIONS)}, got {compression!r}")
    sizes = _check_photometry_options(aperture_sizes, pixel_convention, lightcurve_format)
    positions = _check_positions(positions)
    if depth is not None and not depth > 0:
        raise GalexError(f"depth must be a positive number of seconds, got {depth}")
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    clock, cpu = time.perf_counter(), time.process_time()
    if not 1 <= int(threads) <= 64:
        raise GalexError(f"threads must be between 1 and 64, got {threads}")
    pl = make_photonlists(raw6_path, aspect_path, out, band=band, cal_dir=cal_dir, chunk_size=chunk_size,
                          on_progress=on_progress, should_cancel=should_cancel, threads=threads)  # fmt: skip
    timings["photon list"] = time.perf_counter() - clock
    timings["photon list cpu"] = time.process_time() - cpu
    warnings = list(pl.warnings)
    legs = []
    prefix = file_prefix(pl.eclipse, band)
    # gPhoton 2's ctx.start_time: burst frames are named by their offset from it
    start_time = photonlist_start_time(pl.legs[0].path) if pl.legs else None
    for stats in pl.legs:
        leg_info = next(lg for lg in pl.aspect.legs if lg.index == stats.leg)
        bounds = stats.sky_bounds()
        if bounds is None:
            raise EmptyLeg(
                f"eclipse {pl.eclipse} leg {stats.leg}: no usable events (all flagged or off the detector)"
            )
        scan = PhotonScan(stats.t_min, stats.t_max, bounds, stats.n_on_image)
        pointing = (
            pl.aspect.ra[leg_info.first : leg_info.last + 1],
            pl.aspect.dec[leg_info.first : leg_info.last + 1],
        )
        first = (frame_starts or {}).get(stats.leg, scan.t_min)
        edges = movie_edges(first, scan.t_max, depth) if depth else None
        clock = time.perf_counter()
        image, frame_exp = make_image(stats.path, band=band, scan=scan, pointing=pointing, frame_edges=edges,
                                      batch_rows=chunk_size, should_cancel=should_cancel)  # fmt: skip
        if image.n_zero_response:
            warnings.append(
                f"leg {stats.leg}: {image.n_zero_response} events on zero-flat pixels got weight 0"
            )
        image_name_ = out / image_name(pl.eclipse, band, stats.leg, compression)
        preview_name = out / f"{prefix}-ffull-b{stats.leg:02d}-image-preview.npz"
        pool = ThreadPoolExecutor(max_workers=threads - 1, thread_name_prefix="galex") if threads > 1 else None
        try:
            # With threads, the image is compressed and written, and the sources detected, while
            # this thread makes the movie; frame photometry waits for the sources (frames kept sparse).
            # detection first: it is the longest of the two
            measured = _run(pool, _LegPhotometry, image, band, sizes, positions, pixel_convention)
            written = _run(pool, _write_image_and_preview, image, image_name_, preview_name, pl.eclipse, band,
                           stats.leg, compression)  # fmt: skip
            timings[f"image leg {stats.leg}"] = time.perf_counter() - clock
            _report(on_progress, 1, 1, "image")
            clock = time.perf_counter()
            movie = None
            products = LegProducts(stats.leg, stats.path, Path())
            if depth:
                n_frames = len(edges) - 1
                preview = MoviePreview(image.count.shape, out)
                held = _SparseFrames() if pool is not None else None

                def on_frame(k, count, flag, _n=n_frames, _measured=measured, _preview=preview, _held=held):
                    if _held is not None:
                        _held.add(k, count, flag)
                    else:
                        _measured.result().add_frame(k, count, flag)
                    _preview.add(count)
                    _report(on_progress, k + 1, _n, "movie")

                try:
                    movie = make_movie(stats.path, out, image=image, frame_exposure=frame_exp, eclipse=pl.eclipse,
                                       band=band, leg=stats.leg, depth=depth, compression=compression, burst=burst,
                                       on_frame=on_frame, batch_rows=chunk_size, should_cancel=should_cancel,
                                       name_origin=start_time)  # fmt: skip
                except BaseException:
                    preview.close()
                    raise
                warnings += movie.warnings
                products.movie, products.n_frames = movie.paths, n_frames
                dtag = depth_tag(depth)
                products.movie_preview = preview.write(out / f"{prefix}-{dtag}-b{stats.leg:02d}-movie-preview.npy")
                exposure = pd.DataFrame({"t0": movie.edges[:-1], "t1": movie.edges[1:], "expt": movie.exptimes,
                                         "rawexpt": movie.rawexpts, "shutter": movie.shutters})  # fmt: skip
                products.exposure_table = _write_table(
                    exposure, out / f"{prefix}-{dtag}-b{stats.leg:02d}-exptime.csv", "csv"
                )
                if held is not None:
                    photometry = measured.result()
                    for k, count, flag in held.frames(image.count.shape):
                        photometry.add_frame(k, count, flag)
            photometry = measured.result()
            products.image, products.image_preview = written.result()
        finally:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        timings[f"movie and photometry leg {stats.leg}"] = time.perf_counter() - clock
        products.n_sources, products.n_forced = photometry.n_sources, photometry.n_forced
        products.photon_count, products.exptime = image.photon_count, image.exptime
        products.image_photometry, products.movie_photometry = photometry.write(
            out, prefix, stats.leg, depth, lightcurve_format, movie
        )
        _report(on_progress, 1, 1, "photometry")
        legs.append(products)
    provenance = {
        **pl.provenance,
        "parameters": {
            "depth": depth,
            "compression": compression,
            "burst": burst,
            "aperture_sizes": list(sizes),
            "pixel_convention": pixel_convention,
            "forced_positions": 0 if positions is None else len(positions),
            "frame_starts": {str(k): v for k, v in (frame_starts or {}).items()},
            "lightcurve_format": lightcurve_format,
            "chunk_size": chunk_size,
        },  # fmt: skip
        "software": _versions(),
        "conventions": "gPhoton 2 v3.0.0a0 (MillionConcepts/gPhoton2@d0766ac), reimplemented",
        "warnings": warnings,
    }
    return ReductionResult(pl.eclipse, band, out, legs, pl.n_events, pl.n_kept, warnings, provenance,
                           {k: round(v, 3) for k, v in timings.items()})  # fmt: skip


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
    sizes = _check_photometry_options(aperture_sizes, pixel_convention, lightcurve_format)
    positions = _check_positions(positions)
    out = Path(out_dir).resolve()
    letter = band[0].lower()
    images = sorted(out.glob(f"e*-{letter}d-ffull-b*-image-*.fits*"))
    if not images:
        raise ProductError(f"no {band} image in {out}: reduce the eclipse first")
    legs, eclipse = [], None
    for image_path in images:
        header, planes = _read_planes(image_path)
        eclipse, leg = int(header["ECLIPSE"]), int(header["LEG"])
        count = planes["COUNT"].astype(np.float32)
        geometry = ImageGeometry(float(header["CRVAL1"]), float(header["CRVAL2"]), *count.shape)
        image = FullDepthImage(geometry, count, planes["FLAG"].astype(np.uint8), planes["COVERAGE"].astype(np.uint8),
                               np.zeros((1, 1), np.float32), (float(header["T0_0"]), float(header["T1_0"])),
                               float(header["XPOSURE"]), float(header["XPOSURE"]), 0.0, int(header["PHOTCNT"]),
                               (0.0, 0.0), path=image_path)  # fmt: skip
        photometry = _LegPhotometry(image, band, sizes, positions, pixel_convention)
        prefix = file_prefix(eclipse, band)
        movie = None
        if depth:
            movie = _movie_from_files(out, prefix, leg, depth, photometry)
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
                  "software": _versions()}  # fmt: skip
    return ReductionResult(eclipse, band, out, legs, 0, 0, [], provenance, {})


def _movie_from_files(out: Path, prefix: str, leg: int, depth: float, photometry: _LegPhotometry) -> Movie:
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


def _report(on_progress, done, total, stage) -> None:
    if on_progress is not None:
        on_progress(int(done), int(total), stage)
