"""FITS products: names, headers, image files and the frame-by-frame movie writer."""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.time import Time

try:  # ISA-L's deflate, as gPhoton 2 (``igzip``): ~5x zlib's speed at level 1, files a little smaller
    from isal.igzip import GzipFile
except ImportError:  # pragma: no cover - exercised only where isal is not installed
    from gzip import GzipFile

from ..constants import (
    GPS_EPOCH_UNIX,
    NARROW_EDGE,
    WIDE_EDGE,
    band_constants,
    file_prefix,
)
from ..errors import GalexError, ProductError
from .geometry import ImageGeometry

COMPRESSIONS = {"gzip": "g.fits.gz", "rice": "r.fits", "none": "n.fits"}
VERSION = "gaia-web galex 1.0 (gPhoton 2 v3.0.0a0 conventions)"
GZIP_LEVEL = 1
"""igzip's fast level (isal levels are 0-3; zlib's 1 where isal is absent)."""


# --------------------------------------------------------------------------------------
# FITS writing
# --------------------------------------------------------------------------------------
def check_compression(compression: str) -> str:
    """The one check of a product compression name (a key of ``COMPRESSIONS``); returns it."""
    if compression not in COMPRESSIONS:
        raise GalexError(f"compression must be one of {sorted(COMPRESSIONS)}, got {compression!r}")
    return compression


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
    return fits.ImageHDU(_big_endian(array), header=header, name=header["EXTNAME"])


def _big_endian(array: np.ndarray) -> np.ndarray:
    """The plane as FITS stores it. astropy byteswaps a native little-endian array in place while
    writing it (and back after), so another thread reading the caller's array meanwhile (the
    source detection reads the image being written) would see garbage: write a copy instead."""
    array = np.asarray(array)
    if array.dtype.itemsize == 1 or array.dtype.byteorder == ">":
        return array
    return array.astype(array.dtype.newbyteorder(">"))


def write_fits_product(
    path: Path, planes: list[tuple[np.ndarray, fits.Header]], compression: str
) -> Path:
    """Write an empty primary HDU then one HDU per plane; atomic (temp file + rename).

    ``gzip`` compresses the whole file (deterministic: no time stamp), ``rice`` tile-compresses
    each plane (RICE_1, tiles 100x100, quantize level 10, fixed dither seed), ``none`` writes
    plain FITS.
    """
    check_compression(compression)
    hdul = fits.HDUList([fits.PrimaryHDU()] + [_hdu(a, h, compression) for a, h in planes])
    tmp = path.with_name(f".{path.name}.partial")
    try:
        if compression == "gzip":
            with (
                open(tmp, "wb") as raw,
                _gzip_stream(raw) as gz,
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
        check_compression(compression)
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
            _gzip_stream(self._raw)
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
            self._out.write(_bytes_view(np.ascontiguousarray(count, ">f4")))
            self._flag_stage.write(_bytes_view(np.ascontiguousarray(flag, np.uint8)))
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


def _gzip_stream(raw) -> GzipFile:  # noqa: ANN001 - a binary file object
    """A deterministic gzip stream over ``raw`` (no name, no time stamp)."""
    return GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=GZIP_LEVEL)


def _bytes_view(array: np.ndarray) -> memoryview:
    """A contiguous array's bytes without copying them (a frame is tens of MB)."""
    return memoryview(array).cast("B")


def _pad(nbytes: int) -> int:
    return (-nbytes) % 2880


def _header_block(header: fits.Header) -> bytes:
    return header.tostring(sep="", endcard=True, padding=True).encode("ascii")
