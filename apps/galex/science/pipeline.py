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
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .constants import file_prefix, normalize_band
from .errors import EmptyLeg, GalexError
from .imaging import (
    COMPRESSIONS,
    PhotonScan,
    image_name,
    make_image,
    make_movie,
    movie_edges,
    write_image,
)
from .photometry import DEFAULT_APERTURE_ARCSEC, LightCurveBuilder, find_sources
from .photonlist import CancelFn, ProgressFn, make_photonlists

STAGES = ("decode", "calibrate", "aspect", "photon list", "image", "movie", "photometry")


@dataclass
class LegProducts:
    """Files written for one leg (paths are absolute)."""

    leg: int
    photonlist: Path
    image: Path
    movie: list[Path] = field(default_factory=list)
    image_photometry: Path | None = None
    movie_photometry: Path | None = None
    exposure_table: Path | None = None
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
        """Paths by product kind: photonlist, image, movie, image_photometry, movie_photometry, exposure."""
        kinds: dict[str, list[Path]] = {k: [] for k in
                                        ("photonlist", "image", "movie", "image_photometry", "movie_photometry", "exposure")}  # fmt: skip
        for leg in self.legs:
            kinds["photonlist"].append(leg.photonlist)
            kinds["image"].append(leg.image)
            kinds["movie"] += leg.movie
            for kind, path in (("image_photometry", leg.image_photometry), ("movie_photometry", leg.movie_photometry),
                               ("exposure", leg.exposure_table)):  # fmt: skip
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


def _aperture_tag(aperture_arcsec: float) -> str:
    return str(aperture_arcsec).replace(".", "_")


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
    aperture_arcsec: float = DEFAULT_APERTURE_ARCSEC,
    lightcurve_format: str = "csv",
    chunk_size: int = 500_000,
) -> ReductionResult:
    """Reduce one eclipse and band end to end.

    Parameters
    ----------
    raw6_path : path to the gzip FITS raw6 file.
    aspect_path : folder with aspect/boresight/metadata Parquet tables (or aspect.parquet).
    out_dir : where products go (created if missing).
    band : "NUV" or "FUV"; must match the raw6 header.
    depth : movie frame length in seconds; None makes images and image photometry only.
    compression : "gzip", "rice" or "none" for images and movies.
    burst : write one movie file per frame (bounded memory even with RICE).
    cal_dir : gPhoton 2 calibration folder.
    on_progress, should_cancel : job hooks (see module docstring).
    aperture_arcsec : photometry aperture radius.
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
    if lightcurve_format not in ("csv", "parquet"):
        raise GalexError(f"lightcurve_format must be csv or parquet, got {lightcurve_format!r}")
    if depth is not None and not depth > 0:
        raise GalexError(f"depth must be a positive number of seconds, got {depth}")
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    clock, cpu = time.perf_counter(), time.process_time()
    pl = make_photonlists(raw6_path, aspect_path, out, band=band, cal_dir=cal_dir, chunk_size=chunk_size,
                          on_progress=on_progress, should_cancel=should_cancel)  # fmt: skip
    timings["photon list"] = time.perf_counter() - clock
    timings["photon list cpu"] = time.process_time() - cpu
    warnings = list(pl.warnings)
    legs = []
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
        edges = movie_edges(scan.t_min, scan.t_max, depth) if depth else None
        clock = time.perf_counter()
        image, frame_exp = make_image(stats.path, band=band, scan=scan, pointing=pointing, frame_edges=edges,
                                      batch_rows=chunk_size, should_cancel=should_cancel)  # fmt: skip
        if image.n_zero_response:
            warnings.append(
                f"leg {stats.leg}: {image.n_zero_response} events on zero-flat pixels got weight 0"
            )
        image_path = write_image(image, out / image_name(pl.eclipse, band, stats.leg, compression),
                                 eclipse=pl.eclipse, band=band, leg=stats.leg, compression=compression)  # fmt: skip
        timings[f"image leg {stats.leg}"] = time.perf_counter() - clock
        _report(on_progress, 1, 1, "image")
        clock = time.perf_counter()
        detection = find_sources(image)
        builder = LightCurveBuilder(image, detection, aperture_arcsec, band)
        timings[f"detection leg {stats.leg}"] = time.perf_counter() - clock
        products = LegProducts(stats.leg, stats.path, image_path, n_sources=len(builder.table),
                               photon_count=image.photon_count, exptime=image.exptime)  # fmt: skip
        prefix = f"{file_prefix(pl.eclipse, band)}"
        tag = _aperture_tag(aperture_arcsec)
        ext = lightcurve_format
        products.image_photometry = _write_table(
            builder.table, out / f"{prefix}-ffull-b{stats.leg:02d}-image-photom-{tag}.{ext}", ext
        )
        if depth:
            clock = time.perf_counter()
            n_frames = len(edges) - 1

            def on_frame(k, count, flag, _n=n_frames, _builder=builder):
                _builder.add_frame(k, count, flag)
                _report(on_progress, k + 1, _n, "movie")

            movie = make_movie(stats.path, out, image=image, frame_exposure=frame_exp, eclipse=pl.eclipse,
                               band=band, leg=stats.leg, depth=depth, compression=compression, burst=burst,
                               on_frame=on_frame, batch_rows=chunk_size, should_cancel=should_cancel)  # fmt: skip
            warnings += movie.warnings
            timings[f"movie leg {stats.leg}"] = time.perf_counter() - clock
            products.movie, products.n_frames = movie.paths, n_frames
            dtag = f"f{int(depth):04d}" if float(depth).is_integer() else f"f{depth}"
            products.movie_photometry = _write_table(
                builder.movie_table(movie.tranges, movie.exptimes),
                out / f"{prefix}-{dtag}-b{stats.leg:02d}-movie-photom-{tag}.{ext}", ext)  # fmt: skip
            exposure = pd.DataFrame({"t0": movie.edges[:-1], "t1": movie.edges[1:], "expt": movie.exptimes,
                                     "rawexpt": movie.rawexpts, "shutter": movie.shutters})  # fmt: skip
            products.exposure_table = _write_table(
                exposure, out / f"{prefix}-{dtag}-b{stats.leg:02d}-exptime.csv", "csv"
            )
        _report(on_progress, 1, 1, "photometry")
        legs.append(products)
    provenance = {
        **pl.provenance,
        "parameters": {
            "depth": depth,
            "compression": compression,
            "burst": burst,
            "aperture_arcsec": aperture_arcsec,
            "lightcurve_format": lightcurve_format,
            "chunk_size": chunk_size,
        },  # fmt: skip
        "software": _versions(),
        "conventions": "gPhoton 2 v3.0.0a0 (MillionConcepts/gPhoton2@d0766ac), reimplemented",
        "warnings": warnings,
    }
    return ReductionResult(pl.eclipse, band, out, legs, pl.n_events, pl.n_kept, warnings, provenance,
                           {k: round(v, 3) for k, v in timings.items()})  # fmt: skip


def _report(on_progress, done, total, stage) -> None:
    if on_progress is not None:
        on_progress(int(done), int(total), stage)
