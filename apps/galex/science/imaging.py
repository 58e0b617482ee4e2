"""Full-depth images, movies, exposure times and FITS products from photon lists.

Follows gPhoton 2's ``moviemaker``: events "on the image" have finite ra and detector
radius < 400; each adds ``1/response`` to the COUNT plane of a TAN image at 1.5"/pixel
bounding their ra/dec range; artifact bits (1 hotspot mask, 2 post-CSP ghost, 4 detrad >
350, 8 detrad > 370) are OR-ed into the FLAG plane; DOSE is a 3200x3200 detector-space
count histogram (image only); COVERAGE marks sky seen by the detector during the leg
(1 partial, 2 full within 370 px, 4 within 350 px, 8 within 400 px).

Exposure (gPhoton 2 ``compute_exptime``) per frame [t0, t1): shutter = sum of gaps >= 0.05 s
between consecutive flag-0 event times (frame edges included); raw = t1 - t0 - shutter;
dead time = -m gcr / b with gcr = flag-0 events / raw; exptime = raw (1 - dead time).

Memory: photon lists are read in row batches; movies are written frame by frame (FLAG
frames staged on disk), so only one frame lives in memory, except for RICE-compressed
multi-frame movies, which are assembled in memory (use burst mode to bound that).

Deviations from gPhoton 2, on purpose: events with response <= 0 (flat 0) get weight 0 (gPhoton
gives them 1/0 = inf); the image is binned over its full size (gPhoton's ``make_frame``
clips both axes to the smaller dimension); coverage is computed from the aspect pointing,
not read from ``leg-aperture.parquet`` polygons; no creation date is written, so reruns are
byte-identical.
"""

from __future__ import annotations

import gzip
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from astropy.io import fits
from astropy.time import Time
from astropy.wcs import WCS
from numba import njit

from .constants import (
    ARTIFACT_GHOST,
    ARTIFACT_HARD_EDGE,
    ARTIFACT_HOTSPOT,
    ARTIFACT_SOFT_EDGE,
    DEG_PER_PIXEL,
    FEE_CLOCK_RATIO,
    FLAG_GHOST,
    GPS_EPOCH_UNIX,
    NARROW_EDGE,
    ON_DETECTOR_RADIUS,
    SHUTTER_GAP,
    WIDE_EDGE,
    band_constants,
    file_prefix,
)
from .errors import EmptyLeg, GalexError, ProductError, ReductionCancelled

R2D = 180.0 / np.pi
COMPRESSIONS = {"gzip": "g.fits.gz", "rice": "r.fits", "none": "n.fits"}
IMAGE_COLUMNS = ["t", "ra", "dec", "flags", "col", "row", "detrad", "mask", "response"]
VERSION = "gaia-web galex 1.0 (gPhoton 2 v3.0.0a0 conventions)"
GZIP_LEVEL = (
    1  # like igzip's default, which gPhoton 2 prefers; level 9 is ~5x slower for ~10% smaller files
)


# --------------------------------------------------------------------------------------
# Geometry (TAN WCS)
# --------------------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def _world_to_pixel_kernel(ra, dec, ra0, dec0, crpix1, crpix2, cdelt1, cdelt2):
    n = ra.shape[0]
    x = np.empty(n)
    y = np.empty(n)
    sd0, cd0 = np.sin(dec0 / R2D), np.cos(dec0 / R2D)
    for i in range(n):
        a = (ra[i] - ra0) / R2D
        sd, cd = np.sin(dec[i] / R2D), np.cos(dec[i] / R2D)
        cosc = sd0 * sd + cd0 * cd * np.cos(a)
        xx = cd * np.sin(a) / cosc * R2D
        yy = (cd0 * sd - sd0 * cd * np.cos(a)) / cosc * R2D
        x[i] = crpix1 - 1.0 + xx / cdelt1
        y[i] = crpix2 - 1.0 + yy / cdelt2
    return x, y


@dataclass(frozen=True)
class ImageGeometry:
    """A north-up TAN image: centre (ra0, dec0), size (ny, nx), 1.5"/pixel by default."""

    ra0: float
    dec0: float
    ny: int
    nx: int
    pixel_deg: float = DEG_PER_PIXEL

    @property
    def crpix(self) -> tuple[float, float]:
        return (self.nx / 2.0 + 0.5, self.ny / 2.0 + 0.5)

    def header_cards(self) -> dict:
        """WCS keywords as gPhoton 2 writes them (CDELT, CTYPE, CRPIX, CRVAL, EQUINOX, EPOCH)."""
        return {
            "CDELT1": -self.pixel_deg, "CDELT2": self.pixel_deg, "CTYPE1": "RA---TAN",
            "CTYPE2": "DEC--TAN", "CRPIX1": self.crpix[0], "CRPIX2": self.crpix[1],
            "CRVAL1": self.ra0, "CRVAL2": self.dec0, "EQUINOX": 2000.0, "EPOCH": 2000.0,
        }  # fmt: skip

    def wcs(self) -> WCS:
        w = WCS(naxis=2)
        w.wcs.cdelt = [-self.pixel_deg, self.pixel_deg]
        w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
        w.wcs.crpix = list(self.crpix)
        w.wcs.crval = [self.ra0, self.dec0]
        return w

    def world_to_pixel(self, ra: np.ndarray, dec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """0-based pixel coordinates (x along ra, y along dec); pixel i spans [i-0.5, i+0.5)."""
        return _world_to_pixel_kernel(
            np.ascontiguousarray(ra, np.float64), np.ascontiguousarray(dec, np.float64),
            self.ra0, self.dec0, self.crpix[0], self.crpix[1], -self.pixel_deg, self.pixel_deg,
        )  # fmt: skip

    def pixel_to_world(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Inverse of :meth:`world_to_pixel` (0-based), through astropy's WCS."""
        ra, dec = self.wcs().wcs_pix2world(np.asarray(x, np.float64), np.asarray(y, np.float64), 0)
        return np.asarray(ra), np.asarray(dec)


def bounding_geometry(ra_min: float, ra_max: float, dec_min: float, dec_max: float,
                      pixel_deg: float = DEG_PER_PIXEL) -> ImageGeometry:  # fmt: skip
    """gPhoton 2 ``make_bounding_wcs``: centre on the ra/dec midpoints, size from the ranges."""
    ra0, dec0 = (ra_min + ra_max) / 2.0, (dec_min + dec_max) / 2.0
    ra0 = ra0 if ra0 > 0 else ra0 + 360.0
    ny = int(math.ceil((dec_max - dec_min) / pixel_deg))
    nx = int(math.ceil((ra_max - ra_min) * math.cos(math.radians(dec0)) / pixel_deg))
    if nx < 1 or ny < 1:
        raise EmptyLeg(
            "image would be smaller than 1x1 pixel: the photon list is probably all flagged"
        )
    return ImageGeometry(ra0, dec0, ny, nx, pixel_deg)


# --------------------------------------------------------------------------------------
# Binning kernels and references
# --------------------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def _pixel_index(v, n):
    # Pixel i spans [i-0.5, i+0.5); the far edge n-0.5 belongs to the last pixel, as in
    # histogram2d and gPhoton's bin2d. -1 means outside.
    i = int(np.floor(v + 0.5))
    if i == n and v == n - 0.5:
        return n - 1
    return i if 0 <= i < n else -1


@njit(cache=True, nogil=True)
def _bin_kernel(x, y, w, image):
    ny, nx = image.shape
    for i in range(x.shape[0]):
        ix, iy = _pixel_index(x[i], nx), _pixel_index(y[i], ny)
        if ix >= 0 and iy >= 0:
            image[iy, ix] += w[i]


@njit(cache=True, nogil=True)
def _bin_flags_kernel(x, y, bits, image):
    ny, nx = image.shape
    for i in range(x.shape[0]):
        if bits[i] == 0:
            continue
        ix, iy = _pixel_index(x[i], nx), _pixel_index(y[i], ny)
        if ix >= 0 and iy >= 0:
            image[iy, ix] |= bits[i]


@njit(cache=True, nogil=True)
def _dose_kernel(col, row, dose):
    n0, n1 = dose.shape
    for i in range(col.shape[0]):
        c, r = col[i] * 4.0, row[i] * 4.0
        if c >= 0 and c < n0 and r >= 0 and r < n1:
            dose[int(c), int(r)] += 1.0


def bin_reference(x, y, w, shape) -> np.ndarray:
    """Weighted 2-D histogram with ``np.histogram2d`` (pixel i covers [i-0.5, i+0.5))."""
    ny, nx = shape
    hist, _, _ = np.histogram2d(
        y, x, bins=(ny, nx), range=[[-0.5, ny - 0.5], [-0.5, nx - 0.5]], weights=w
    )
    return hist


def bin_flags_reference(x, y, bits, shape) -> np.ndarray:
    """Per-bit booleanised histograms OR-ed together (gPhoton 2 ``make_mask_frame``)."""
    out = np.zeros(shape, np.uint8)
    for bit in range(4):
        sel = (bits & (1 << bit)) > 0
        out |= (bin_reference(x[sel], y[sel], np.ones(sel.sum()), shape) > 0).astype(
            np.uint8
        ) << bit
    return out


def artifact_bits(mask: np.ndarray, flags: np.ndarray, detrad: np.ndarray) -> np.ndarray:
    """gPhoton 2 ``combine_artifacts``: hotspot 1, ghost 2, detrad > 350: 4, > 370: 8."""
    bits = np.where(mask, ARTIFACT_HOTSPOT, 0) | np.where(flags == FLAG_GHOST, ARTIFACT_GHOST, 0)
    bits |= np.where(detrad > WIDE_EDGE, ARTIFACT_SOFT_EDGE, 0) | np.where(
        detrad > NARROW_EDGE, ARTIFACT_HARD_EDGE, 0
    )
    return bits.astype(np.uint8)


# --------------------------------------------------------------------------------------
# Exposure time
# --------------------------------------------------------------------------------------
def exposure_reference(
    t: np.ndarray, flags: np.ndarray, band: str, t0: float, t1: float
) -> tuple[float, float, float]:
    """gPhoton 2 ``compute_exptime`` on the events of [t0, t1); returns (expt, raw, shutter)."""
    sel = (t >= t0) & (t < t1) & (flags == 0)
    tt = np.hstack([t0, np.unique(t[sel]), t1])
    gaps = np.diff(tt)
    shutter = gaps[gaps >= SHUTTER_GAP].sum()
    raw = t1 - t0 - shutter
    if raw == 0:
        return 0.0, 0.0, float(shutter)
    gcr = sel.sum() / raw
    m, b = band_constants(band, 1).deadtime
    refrate = b / FEE_CLOCK_RATIO
    deadtime = 1 - (m * gcr + b) / FEE_CLOCK_RATIO / refrate
    return float(raw * (1.0 - deadtime)), float(raw), float(shutter)


@njit(cache=True, nogil=True)
def _shutter_kernel(t, flags, edges, last, count, shutter):
    nf = edges.shape[0] - 1
    for i in range(t.shape[0]):
        if flags[i] != 0:
            continue
        k = np.searchsorted(edges, t[i], side="right") - 1
        if k < 0 or k >= nf:
            continue
        gap = t[i] - last[k]
        if gap >= 0.05:
            shutter[k] += gap
        if t[i] > last[k]:
            last[k] = t[i]
        count[k] += 1


class ExposureAccumulator:
    """Streaming exposure of frames [edges[k], edges[k+1]); events must arrive time-sorted."""

    def __init__(self, edges: np.ndarray):
        self.edges = np.ascontiguousarray(edges, np.float64)
        n = len(self.edges) - 1
        self.last = self.edges[:-1].copy()
        self.count = np.zeros(n, np.int64)
        self.shutter = np.zeros(n, np.float64)

    def add(self, t: np.ndarray, flags: np.ndarray) -> None:
        _shutter_kernel(np.ascontiguousarray(t, np.float64), np.ascontiguousarray(flags, np.uint8),
                        self.edges, self.last, self.count, self.shutter)  # fmt: skip

    def result(self, band: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(exptime, raw exposure, shutter) per frame, seconds."""
        tail = self.edges[1:] - self.last
        shutter = self.shutter + np.where(tail >= SHUTTER_GAP, tail, 0.0)
        raw = np.diff(self.edges) - shutter
        m, b = band_constants(band, 1).deadtime
        with np.errstate(invalid="ignore", divide="ignore"):
            gcr = np.where(raw != 0, self.count / raw, 0.0)
        deadtime = 1 - (m * gcr + b) / FEE_CLOCK_RATIO / (b / FEE_CLOCK_RATIO)
        expt = np.where(raw != 0, raw * (1.0 - deadtime), 0.0)
        return expt, raw, shutter


def movie_edges(t_min: float, t_max: float, depth: float) -> np.ndarray:
    """Frame edges ``arange(tmin, tmax + depth, depth)`` as gPhoton 2 ``make_movies``."""
    if depth <= 0:
        raise GalexError(f"movie depth must be positive, got {depth}")
    return np.arange(t_min, t_max + depth, depth)


# --------------------------------------------------------------------------------------
# Coverage
# --------------------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def _coverage_kernel(ny, nx, px, py, det_per_img):
    out = np.zeros((ny, nx), np.uint8)
    for iy in range(ny):
        for ix in range(nx):
            dmin, dmax = 1e30, 0.0
            for k in range(px.shape[0]):
                d = np.sqrt((ix - px[k]) ** 2 + (iy - py[k]) ** 2) * det_per_img
                dmin = min(dmin, d)
                dmax = max(dmax, d)
            bits = 0
            if dmax < 400.0:
                bits |= 8
            if dmax < 370.0:
                bits |= 2
            if dmax < 350.0:
                bits |= 4
            if bits == 0 and dmin < 400.0:
                bits = 1
            out[iy, ix] = bits
    return out


def coverage_map(geometry: ImageGeometry, pointing_ra: np.ndarray, pointing_dec: np.ndarray,
                 max_samples: int = 48) -> tuple[np.ndarray, float, float]:  # fmt: skip
    """Coverage bits per pixel from the detector footprint along the pointing track.

    A pixel is fully covered at radius R (detector pixels of 6") when it stays within R
    of the pointing centre at every sampled aspect record, partially when within 400 at
    some record. Returns (coverage uint8 (ny, nx), PARTAREA, FULLAREA) with areas in deg^2
    (gPhoton 2: ring area and the full-400 area).
    """
    idx = np.unique(
        np.linspace(0, len(pointing_ra) - 1, min(max_samples, len(pointing_ra))).astype(int)
    )
    px, py = geometry.world_to_pixel(pointing_ra[idx], pointing_dec[idx])
    cov = _coverage_kernel(geometry.ny, geometry.nx, px, py, geometry.pixel_deg * 3600 / 6.0)
    pix_area = geometry.pixel_deg**2
    full = float(((cov & 8) > 0).sum() * pix_area)
    partial = float((cov > 0).sum() * pix_area)
    return cov, partial - full, full


# --------------------------------------------------------------------------------------
# FITS writing
# --------------------------------------------------------------------------------------
def image_name(eclipse: int, band: str, leg: int, compression: str) -> str:
    return f"{file_prefix(eclipse, band)}-ffull-b{leg:02d}-image-{COMPRESSIONS[compression]}"


def _as_given(value: float) -> int | float:
    """A number as gPhoton 2's command line receives it: whole numbers are ints (30, not 30.0)."""
    value = float(value)
    return int(value) if value.is_integer() else value


def depth_tag(depth: float | None) -> str:
    """gPhoton 2 ``format_depth``: ``ffull`` for images, else ``f`` + str(depth) zero-filled to
    4 characters (``f0030``; a fractional depth 2.5 is ``f02.5``)."""
    return "ffull" if depth is None else "f" + str(_as_given(depth)).zfill(4)


def aperture_tag(aperture_arcsec: float) -> str:
    """gPhoton 2 ``format_aperture`` without its dash: ``12_8`` for 12.8", ``6`` for 6"."""
    return str(_as_given(aperture_arcsec)).replace(".", "_")


def movie_name(
    eclipse: int, band: str, leg: int, depth: float, compression: str, start: float | None = None
) -> str:
    """``...-f0030-b00-movie-g.fits.gz``; a burst frame is named by ``start``, its start time minus
    the photon list's first time (gPhoton 2 ``ctx.start_time``), through ``intfill``."""
    tag = "movie" if start is None else f"t{_intfill(start)}"
    return f"{file_prefix(eclipse, band)}-{depth_tag(depth)}-b{leg:02d}-{tag}-{COMPRESSIONS[compression]}"


def _intfill(value: float, width: int = 4) -> str:
    """gPhoton 2 ``intfill``: zero-filled integer part, then fractional digits without a point."""
    frac, whole = math.modf(float(value))
    text = str(int(whole)).zfill(width)
    return text if not frac else text + str(round(abs(frac), 4))[2:]


def _utc(t: float) -> str:
    return (
        datetime.fromtimestamp(GPS_EPOCH_UNIX + t, tz=UTC)
        .replace(microsecond=0, tzinfo=None)
        .isoformat()
    )


@dataclass
class ProductMeta:
    """Header metadata shared by the planes of one image or movie."""

    eclipse: int
    band: str
    leg: int
    tranges: list[tuple[float, float]]
    exptimes: list[float]
    photon_count: int
    geometry: ImageGeometry
    coverage_areas: tuple[float, float] = (0.0, 0.0)


_COMMENTS = {
    "COUNT": "Sky-projected histograms of photon counts.",
    "FLAG": ("Sky-projected bitmap of flags, where any flagged photon in that bin defines the flag for that "
             "whole bin. Flag 1: Mission hotspot mask. Flag 2: Post-CSP ghost flag. Flag 4: Wide edge flag. "
             "Flag 8: Narrow edge flag. Ex: Flag 12 means both narrow and wide edge flags are set."),
    "DOSE": "Detector-space histogram of photon counts.",
    "COVERAGE": ("Aspect-derived maps in sky-projected space. Coverage varies due to dither patterns. "
                 "1 is partial coverage, 0 is no coverage."),
}  # fmt: skip


def product_header(meta: ProductMeta, extname: str) -> fits.Header:
    """gPhoton 2 ``populate_fits_header`` keywords, without the creation DATE (reruns identical)."""
    h = fits.Header()
    h["TELESCOP"] = "GALEX"
    h["ECLIPSE"] = meta.eclipse
    h["LEG"] = meta.leg
    h["BANDNAME"] = meta.band
    h["BAND"] = band_constants(meta.band, meta.eclipse).code
    h["TIMESYS"] = "UTC"
    h["TIMEUNIT"] = "s"
    tr = np.array(meta.tranges, np.float64)
    h["DATE-BEG"], h["DATE-END"] = _utc(tr.min()), _utc(tr.max())
    h["MJD-BEG"] = Time(h["DATE-BEG"], format="isot", scale="utc").mjd
    h["MJD-END"] = Time(h["DATE-END"], format="isot", scale="utc").mjd
    h["TSTART"], h["TSTOP"] = float(tr.min()), float(tr.max())
    h["TELAPSE"] = round(float(sum(t1 - t0 for t0, t1 in meta.tranges)), 3)
    h["XPOSURE"] = round(float(sum(meta.exptimes)), 3)
    for i, ((t0, t1), expt) in enumerate(zip(meta.tranges, meta.exptimes, strict=True)):
        h[f"T0_{i}"], h[f"T1_{i}"], h[f"EXPT_{i}"] = float(t0), float(t1), round(float(expt), 3)
    h["PHOTCNT"] = int(meta.photon_count)
    h["N_FRAME"] = len(meta.tranges)
    if extname == "DOSE":
        h["PARTAREA"], h["FULLAREA"] = meta.coverage_areas
    else:
        h.update(meta.geometry.header_cards())
    if extname == "FLAG":
        h["HARDEDGE"], h["SOFTEDGE"] = NARROW_EDGE, WIDE_EDGE
    h["ZCMPTYPE"] = "RICE_1"
    h["ORIGIN"] = "GAIA web"
    h["VERSION"] = VERSION
    h["COMMENT"] = _COMMENTS[extname]
    h["EXTNAME"] = extname
    return h


def _hdu(array: np.ndarray, header: fits.Header, compression: str):
    if compression == "rice":
        tile = (1, 100, 100) if array.ndim == 3 else (100, 100)
        header = header.copy()
        header.remove("ZCMPTYPE", ignore_missing=True)  # reserved: the tile convention sets it
        return fits.CompImageHDU(array, header=header, name=header["EXTNAME"], compression_type="RICE_1",
                                 tile_shape=tile, quantize_level=10.0, quantize_method=2, dither_seed=1)  # fmt: skip
    return fits.ImageHDU(array, header=header, name=header["EXTNAME"])


def write_fits_product(
    path: Path, planes: list[tuple[np.ndarray, fits.Header]], compression: str
) -> Path:
    """Write an empty primary HDU then one HDU per plane; atomic (temp file + rename).

    ``gzip`` compresses the whole file (deterministic: no time stamp), ``rice`` tile-compresses
    each plane (RICE_1, tiles 100x100, quantize level 10, fixed dither seed), ``none`` writes
    plain FITS.
    """
    if compression not in COMPRESSIONS:
        raise GalexError(f"compression must be one of {sorted(COMPRESSIONS)}, got {compression!r}")
    hdul = fits.HDUList([fits.PrimaryHDU()] + [_hdu(a, h, compression) for a, h in planes])
    tmp = path.with_name(f".{path.name}.partial")
    try:
        if compression == "gzip":
            with (
                open(tmp, "wb") as raw,
                gzip.GzipFile(
                    filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=GZIP_LEVEL
                ) as gz,
            ):
                hdul.writeto(gz)
        else:
            hdul.writeto(tmp, overwrite=True)
        os.replace(tmp, path)
    except OSError as exc:
        raise ProductError(f"cannot write {path}: {exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)
    return path


class MovieWriter:
    """Stream a multi-frame movie (COUNT and FLAG cubes, COVERAGE) one frame at a time.

    For ``none`` and ``gzip``, COUNT frames go straight to the output stream behind a
    header written up front (all frame times and exposures are known before binning),
    FLAG frames are staged in a temporary file and appended after. For ``rice`` the cube
    is assembled in memory (``in_memory_bytes`` says how much) and written at close.
    """

    def __init__(self, path: Path, meta: ProductMeta, coverage: np.ndarray, compression: str):
        if compression not in COMPRESSIONS:
            raise GalexError(
                f"compression must be one of {sorted(COMPRESSIONS)}, got {compression!r}"
            )
        self.path, self.meta, self.coverage, self.compression = path, meta, coverage, compression
        self.n_frames = len(meta.tranges)
        self.shape = (meta.geometry.ny, meta.geometry.nx)
        self.frames_written = 0
        self.tmp = path.with_name(f".{path.name}.partial")
        self.in_memory_bytes = 0
        if compression == "rice":
            self._counts: list[np.ndarray] = []
            self._flags: list[np.ndarray] = []
            return
        self._raw = open(self.tmp, "wb")  # noqa: SIM115 - closed in close()/abort()
        self._out = (
            gzip.GzipFile(
                filename="", mode="wb", fileobj=self._raw, mtime=0, compresslevel=GZIP_LEVEL
            )
            if compression == "gzip"
            else self._raw
        )
        self._flag_stage = tempfile.TemporaryFile(dir=path.parent)  # noqa: SIM115
        self._out.write(_header_block(fits.PrimaryHDU().header))
        self._out.write(_header_block(self._cube_header("COUNT", -32)))

    def _cube_header(self, extname: str, bitpix: int) -> fits.Header:
        h = fits.Header()
        h["XTENSION"] = "IMAGE"
        h["BITPIX"] = bitpix
        h["NAXIS"] = 3
        h["NAXIS1"], h["NAXIS2"], h["NAXIS3"] = self.shape[1], self.shape[0], self.n_frames
        h["PCOUNT"], h["GCOUNT"] = 0, 1
        h.extend(product_header(self.meta, extname), unique=True)
        return h

    def add(self, count: np.ndarray, flag: np.ndarray) -> None:
        """Append one frame: COUNT float32 (ny, nx), FLAG uint8 (ny, nx)."""
        if self.frames_written >= self.n_frames:
            raise ProductError(f"movie {self.path} already has its {self.n_frames} frames")
        if self.compression == "rice":
            self._counts.append(count.astype(np.float32))
            self._flags.append(flag.astype(np.uint8))
            self.in_memory_bytes += count.size * 5
        else:
            self._out.write(np.ascontiguousarray(count, ">f4").tobytes())
            self._flag_stage.write(np.ascontiguousarray(flag, np.uint8).tobytes())
        self.frames_written += 1

    def close(self) -> Path:
        """Finish the file and move it into place (atomic)."""
        if self.frames_written != self.n_frames:
            self.abort()
            raise ProductError(
                f"movie {self.path}: {self.frames_written} of {self.n_frames} frames written"
            )
        if self.compression == "rice":
            planes = [(np.stack(self._counts), product_header(self.meta, "COUNT")),
                      (np.stack(self._flags), product_header(self.meta, "FLAG")),
                      (self.coverage, product_header(self.meta, "COVERAGE"))]  # fmt: skip
            return write_fits_product(self.path, planes, "rice")
        ny, nx = self.shape
        self._out.write(b"\0" * _pad(4 * ny * nx * self.n_frames))
        self._out.write(_header_block(self._cube_header("FLAG", 8)))
        self._flag_stage.seek(0)
        shutil.copyfileobj(self._flag_stage, self._out, 16 << 20)
        self._out.write(b"\0" * _pad(ny * nx * self.n_frames))
        cov = fits.ImageHDU(
            self.coverage, header=product_header(self.meta, "COVERAGE"), name="COVERAGE"
        )
        self._out.write(_header_block(cov.header))
        self._out.write(np.ascontiguousarray(self.coverage, np.uint8).tobytes())
        self._out.write(b"\0" * _pad(self.coverage.size))
        self._finish_streams()
        os.replace(self.tmp, self.path)
        return self.path

    def _finish_streams(self) -> None:
        if self._out is not self._raw:
            self._out.close()
        self._raw.close()
        self._flag_stage.close()

    def abort(self) -> None:
        """Drop a partial movie (called on errors and cancellation)."""
        if self.compression != "rice":
            self._finish_streams()
        self.tmp.unlink(missing_ok=True)


def _pad(nbytes: int) -> int:
    return (-nbytes) % 2880


def _header_block(header: fits.Header) -> bytes:
    return header.tostring(sep="", endcard=True, padding=True).encode("ascii")


# --------------------------------------------------------------------------------------
# Reading photon lists in batches
# --------------------------------------------------------------------------------------
def iter_photons(
    path: Path, columns: list[str], batch_rows: int = 500_000
) -> Iterator[dict[str, np.ndarray]]:
    """Yield dicts of column arrays from a photon list, ``batch_rows`` rows at a time."""
    try:
        # pre_buffer would prefetch whole column chunks: 5x the memory for no gain here.
        pf = pq.ParquetFile(path, pre_buffer=False, buffer_size=1 << 20)
    except (OSError, ValueError) as exc:
        raise ProductError(f"photon list {path} cannot be read: {exc}") from exc
    for batch in pf.iter_batches(batch_size=batch_rows, columns=columns):
        yield {name: batch.column(name).to_numpy(zero_copy_only=False) for name in columns}


@dataclass
class PhotonScan:
    """Time range and sky bounds of the on-image events of a photon list."""

    t_min: float
    t_max: float
    bounds: tuple[float, float, float, float]
    n_on_image: int


def scan_photonlist(path: Path, batch_rows: int = 500_000) -> PhotonScan:
    """One pass over (t, ra, dec, detrad) to find what :func:`make_image` needs."""
    t_min, t_max, n = np.inf, -np.inf, 0
    lo, hi = np.array([np.inf, np.inf, np.inf]), np.array([-np.inf, -np.inf, -np.inf])
    for b in iter_photons(path, ["t", "ra", "dec", "detrad"], batch_rows):
        on = np.isfinite(b["ra"]) & np.isfinite(b["detrad"]) & (b["detrad"] < ON_DETECTOR_RADIUS)
        if not on.any():
            continue
        n += int(on.sum())
        ra, dec, t = b["ra"][on], b["dec"][on], b["t"][on]
        vals = np.array([[ra.min(), np.where(ra > 180, ra - 360, ra).min(), dec.min()],
                         [ra.max(), np.where(ra > 180, ra - 360, ra).max(), dec.max()]])  # fmt: skip
        lo, hi = np.minimum(lo, vals[0]), np.maximum(hi, vals[1])
        t_min, t_max = min(t_min, t.min()), max(t_max, t.max())
    if n == 0:
        raise EmptyLeg(
            f"photon list {path} has no events on the detector with a valid aspect solution"
        )
    ra_lo, ra_hi = (lo[0], hi[0]) if hi[0] - lo[0] <= 350 else (lo[1], hi[1])
    return PhotonScan(float(t_min), float(t_max), (ra_lo, ra_hi, lo[2], hi[2]), n)


# --------------------------------------------------------------------------------------
# Full-depth image (+ frame exposures in the same pass)
# --------------------------------------------------------------------------------------
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


def _selected(b: dict[str, np.ndarray]) -> np.ndarray:
    return np.isfinite(b["detrad"]) & (b["detrad"] < ON_DETECTOR_RADIUS) & np.isfinite(b["ra"])


def _weights(response: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        w = 1.0 / response.astype(np.float64)
    return np.where(np.isfinite(w) & (response > 0), w, 0.0)


def make_image(
    photonlist: str | os.PathLike,
    *,
    band: str,
    scan: PhotonScan | None = None,
    pointing: tuple[np.ndarray, np.ndarray] | None = None,
    frame_edges: np.ndarray | None = None,
    batch_rows: int = 500_000,
    should_cancel: Callable[[], bool] | None = None,
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
    """
    path = Path(photonlist)
    scan = scan or scan_photonlist(path, batch_rows)
    geom = bounding_geometry(*scan.bounds)
    count = np.zeros((geom.ny, geom.nx), np.float64)
    flag = np.zeros((geom.ny, geom.nx), np.uint8)
    dose = np.zeros((3200, 3200), np.float32)  # exact counts up to 2**24 per cell
    image_exp = ExposureAccumulator(np.array([scan.t_min, scan.t_max]))
    frame_exp = ExposureAccumulator(frame_edges) if frame_edges is not None else None
    n_sel = n_zero = 0
    for b in iter_photons(path, IMAGE_COLUMNS, batch_rows):
        if should_cancel is not None and should_cancel():
            raise ReductionCancelled("reduction cancelled while making the image")
        image_exp.add(b["t"], b["flags"])
        if frame_exp is not None:
            frame_exp.add(b["t"], b["flags"])
        sel = _selected(b)
        if not sel.any():
            continue
        x, y = geom.world_to_pixel(b["ra"][sel], b["dec"][sel])
        w = _weights(b["response"][sel])
        n_zero += int((w == 0).sum())
        _bin_kernel(x, y, w, count)
        _bin_flags_kernel(
            x, y, artifact_bits(b["mask"][sel], b["flags"][sel], b["detrad"][sel]), flag
        )
        _dose_kernel(b["col"][sel], b["row"][sel], dose)
        n_sel += int(sel.sum())
    expt, raw, shutter = image_exp.result(band)
    if pointing is not None:
        coverage, part, full = coverage_map(geom, *pointing)
    else:
        coverage, part, full = np.full((geom.ny, geom.nx), 14, np.uint8), 0.0, 0.0
    count32 = count.astype(np.float32)
    del count
    image = FullDepthImage(geom, count32, flag, coverage, dose, (scan.t_min, scan.t_max), float(expt[0]),
                           float(raw[0]), float(shutter[0]), n_sel, (part, full), n_zero)  # fmt: skip
    return image, frame_exp


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


# --------------------------------------------------------------------------------------
# Movies
# --------------------------------------------------------------------------------------
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
        sel = _selected(b)
        t = b["t"][sel]
        x, y = geom.world_to_pixel(b["ra"][sel], b["dec"][sel])
        w = _weights(b["response"][sel])
        bits = artifact_bits(b["mask"][sel], b["flags"][sel], b["detrad"][sel])
        frame_of = np.searchsorted(edges, t, side="right") - 1
        for j in np.unique(frame_of):
            if j < 0 or j >= nf:
                continue
            while k < j:
                yield k, count.astype(np.float32), flag
                count, flag, k = np.zeros_like(count), np.zeros_like(flag), k + 1
            s = frame_of == j
            _bin_kernel(x[s], y[s], w[s], count)
            _bin_flags_kernel(x[s], y[s], bits[s], flag)
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
) -> Movie:
    """Bin, hand to ``on_frame`` (photometry) and write every frame of a depth-``depth`` movie.

    ``burst=False`` writes one FITS file (COUNT and FLAG cubes [frame, y, x], COVERAGE);
    ``burst=True`` writes one file per frame named ``...-t{start offset}-...`` (gPhoton 2), the
    offset from ``name_origin`` (the photon list's first time, as gPhoton 2; default: the first
    frame's start).
    """
    out_dir = Path(out_dir)
    edges = frame_exposure.edges
    expt, raw, shutter = frame_exposure.result(band)
    movie = Movie(edges, expt, raw, shutter)
    meta = ProductMeta(
        eclipse, band, leg, movie.tranges, list(expt), image.photon_count, image.geometry
    )
    writer = None
    if not burst:
        writer = MovieWriter(
            out_dir / movie_name(eclipse, band, leg, depth, compression),
            meta,
            image.coverage,
            compression,
        )
    try:
        for k, count, flag in iter_frames(
            Path(photonlist), image.geometry, edges, batch_rows, should_cancel
        ):
            if on_frame is not None:
                on_frame(k, count, flag)
            if writer is not None:
                writer.add(count, flag)
                continue
            frame_meta = ProductMeta(eclipse, band, leg, [movie.tranges[k]], [float(expt[k])],
                                     image.photon_count, image.geometry)  # fmt: skip
            origin = edges[0] if name_origin is None else name_origin
            name = movie_name(eclipse, band, leg, depth, compression, start=edges[k] - origin)
            planes = [(count, product_header(frame_meta, "COUNT")), (flag, product_header(frame_meta, "FLAG")),
                      (image.coverage, product_header(frame_meta, "COVERAGE"))]  # fmt: skip
            movie.paths.append(write_fits_product(out_dir / name, planes, compression))
        if writer is not None:
            movie.paths.append(writer.close())
            if writer.in_memory_bytes:
                movie.warnings.append(
                    f"RICE multi-frame movie assembled in memory ({writer.in_memory_bytes / 2**20:.0f} MiB); "
                    "use burst mode to bound memory"
                )
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    return movie
