"""raw6 telemetry: streaming FITS reader/writer, bit-field decoding and centre-and-scale.

A raw6 file is a gzip-compressed FITS file: HDU0 carries ``BAND`` (1 NUV, 2 FUV) and
``ECLIPSE``; HDU1 is a binary table with one row per detector event, ``t`` (GALEX time,
seconds since 1980-01-06, no leap seconds) and the packed bytes ``phb1..phb5`` (``phb6`` is
unused). gPhoton 2 reads the whole table at once; we stream it in row chunks so memory stays
bounded however long the eclipse is.

Bit layout (gPhoton 2 ``bitwise_decode_photonbytes``, mission L0 processing), with
p1..p5 = phb1..phb5::

    p1 = [xb:3 | xamc bits 11..7]      p2 = [xamc bits 6..0 | yb bit 2]
    p3 = [yb bits 1..0 | yamc 11..6]   p4 = [yamc bits 5..0 | q bits 4..3]
    p5 = [q bits 2..0 | xa bit 0 | xa bits 2..1 | xa bits 4..3]

xamc and yamc are 12-bit two's-complement numbers (-2048..2047); xb, yb are 0..7 and q,
xa are 0..31.
"""

from __future__ import annotations

import gzip
import math
import os
import tempfile
import warnings
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
from astropy.io import fits
from astropy.io.fits.verify import VerifyError
from numba import njit

from .constants import BandConstants, band_from_code
from .errors import Raw6Error

try:  # ISA-L's gzip reader inflates about twice as fast as the stdlib's zlib.
    from isal import igzip as _gzip_reader
    from isal.isal_zlib import error as _inflate_error
except ImportError:  # pragma: no cover - exercised only where isal is not installed
    _gzip_reader = gzip
    _inflate_error = zlib.error

FITS_BLOCK = 2880
RAW6_COLUMNS = ("t", "phb1", "phb2", "phb3", "phb4", "phb5")
_WRITE_DTYPE = np.dtype(
    [("t", ">f8")] + [(f"phb{i}", "u1") for i in range(1, 7)]
)  # 14-byte rows: t 'D' + phb1..phb6 'B'


# --------------------------------------------------------------------------------------
# Bit fields
# --------------------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def _decode_kernel(p1, p2, p3, p4, p5):
    n = p1.shape[0]
    xb = np.empty(n, np.int16)
    xamc = np.empty(n, np.int16)
    yb = np.empty(n, np.int16)
    yamc = np.empty(n, np.int16)
    q = np.empty(n, np.int16)
    xa = np.empty(n, np.int16)
    for i in range(n):
        b1, b2, b3, b4, b5 = int(p1[i]), int(p2[i]), int(p3[i]), int(p4[i]), int(p5[i])
        xb[i] = b1 >> 5
        xamc[i] = ((b1 & 31) << 7) + ((b2 & 254) >> 1) - ((b1 & 16) << 8)
        yb[i] = ((b2 & 1) << 2) + ((b3 & 192) >> 6)
        yamc[i] = ((b3 & 63) << 6) + ((b4 & 252) >> 2) - ((b3 & 32) << 7)
        q[i] = ((b4 & 3) << 3) + ((b5 & 224) >> 5)
        xa[i] = ((b5 & 16) >> 4) + ((b5 & 3) << 3) + ((b5 & 12) >> 1)
    return xb, xamc, yb, yamc, q, xa


def decode_reference(phb: np.ndarray) -> dict[str, np.ndarray]:
    """Slow, obvious decoding with gPhoton 2's own numpy expressions (phb shape (n, 5))."""
    p = [phb[:, i].astype(np.int16) for i in range(5)]
    return {
        "xb": p[0] >> 5,
        "xamc": ((p[0] & 31) << 7) + ((p[1] & 254) >> 1) - ((p[0] & 16) << 8),
        "yb": ((p[1] & 1) << 2) + ((p[2] & 192) >> 6),
        "yamc": ((p[2] & 63) << 6) + ((p[3] & 252) >> 2) - ((p[2] & 32) << 7),
        "q": ((p[3] & 3) << 3) + ((p[4] & 224) >> 5),
        "xa": ((p[4] & 16) >> 4) + ((p[4] & 3) << 3) + ((p[4] & 12) >> 1),
    }


def decode_photonbytes(phb: np.ndarray) -> dict[str, np.ndarray]:
    """Decode packed photon bytes into the six raw fields.

    Parameters
    ----------
    phb : ndarray, shape (n, 5), integer
        Bytes phb1..phb5 of each event.

    Returns
    -------
    dict of int16 arrays, shape (n,)
        ``xb, xamc, yb, yamc, q, xa`` (see the module docstring for the layout).
    """
    phb = np.asarray(phb)
    if phb.ndim != 2 or phb.shape[1] != 5:
        raise Raw6Error(f"photon bytes must have shape (n, 5), got {phb.shape}")
    cols = [np.ascontiguousarray(phb[:, i], dtype=np.int16) for i in range(5)]
    return dict(zip(("xb", "xamc", "yb", "yamc", "q", "xa"), _decode_kernel(*cols), strict=True))


def decode_columns(phb: np.ndarray) -> dict[str, np.ndarray]:
    """:func:`decode_photonbytes` for bytes laid out one row per byte, without copies.

    Parameters
    ----------
    phb : ndarray, shape (5, n), uint8 or int16
        phb1..phb5, each row contiguous (what :meth:`Raw6Reader.columns` yields).

    Returns
    -------
    dict of int16 arrays, shape (n,): ``xb, xamc, yb, yamc, q, xa``.
    """
    if phb.ndim != 2 or phb.shape[0] != 5:
        raise Raw6Error(f"photon byte rows must have shape (5, n), got {phb.shape}")
    rows = [np.ascontiguousarray(phb[i]) for i in range(5)]
    return dict(zip(("xb", "xamc", "yb", "yamc", "q", "xa"), _decode_kernel(*rows), strict=True))


@njit(cache=True, nogil=True)
def _encode_kernel(xb, xamc, yb, yamc, q, xa):
    n = xb.shape[0]
    out = np.empty((n, 5), np.uint8)
    for i in range(n):
        u = int(xamc[i]) & 0xFFF
        v = int(yamc[i]) & 0xFFF
        b, y, qq, a = int(xb[i]), int(yb[i]), int(q[i]), int(xa[i])
        out[i, 0] = (b << 5) | (u >> 7)
        out[i, 1] = ((u & 0x7F) << 1) | (y >> 2)
        out[i, 2] = ((y & 3) << 6) | (v >> 6)
        out[i, 3] = ((v & 0x3F) << 2) | (qq >> 3)
        out[i, 4] = ((qq & 7) << 5) | ((a & 1) << 4) | (((a >> 1) & 3) << 2) | ((a >> 3) & 3)
    return out


def encode_reference(fields: dict[str, np.ndarray]) -> np.ndarray:
    """Slow, obvious inverse of :func:`decode_reference`; returns uint8 shape (n, 5)."""
    xb, yb, q, xa = (fields[k].astype(np.int64) for k in ("xb", "yb", "q", "xa"))
    u = fields["xamc"].astype(np.int64) & 0xFFF
    v = fields["yamc"].astype(np.int64) & 0xFFF
    cols = [
        (xb << 5) | (u >> 7),
        ((u & 0x7F) << 1) | (yb >> 2),
        ((yb & 3) << 6) | (v >> 6),
        ((v & 0x3F) << 2) | (q >> 3),
        ((q & 7) << 5) | ((xa & 1) << 4) | (((xa >> 1) & 3) << 2) | ((xa >> 3) & 3),
    ]
    return np.column_stack(cols).astype(np.uint8)


_FIELD_RANGES = {
    "xb": (0, 7),
    "yb": (0, 7),
    "xamc": (-2048, 2047),
    "yamc": (-2048, 2047),
    "q": (0, 31),
    "xa": (0, 31),
}


def encode_fields(fields: dict[str, np.ndarray]) -> np.ndarray:
    """Pack raw fields into photon bytes, the exact inverse of :func:`decode_photonbytes`.

    Parameters
    ----------
    fields : dict of integer arrays, shape (n,)
        ``xb, xamc, yb, yamc, q, xa`` within their bit ranges.

    Returns
    -------
    ndarray, uint8, shape (n, 5)
    """
    arrays = []
    for name, (low, high) in _FIELD_RANGES.items():
        if name not in fields:
            raise Raw6Error(f"cannot encode: field {name!r} is missing")
        values = np.asarray(fields[name])
        if values.size and (values.min() < low or values.max() > high):
            raise Raw6Error(f"cannot encode: {name} outside {low}..{high}")
        arrays.append(values)
    order = ("xb", "xamc", "yb", "yamc", "q", "xa")
    by_name = dict(zip(_FIELD_RANGES, arrays, strict=True))
    cols = [np.ascontiguousarray(by_name[k], dtype=np.int16) for k in order]
    return _encode_kernel(*cols)


# --------------------------------------------------------------------------------------
# Centre and scale: raw fields -> detector microns
# --------------------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def _center_scale_kernel(xb, xamc, yb, yamc, xa, xclk, yclk, xcen, ycen, xscl, yscl, xslp, yslp):
    n = xb.shape[0]
    x = np.empty(n, np.float64)
    y = np.empty(n, np.float64)
    ya = np.empty(n, np.int16)
    for i in range(n):
        xraw0 = int(xb[i]) * xclk + int(xamc[i])
        yraw0 = int(yb[i]) * yclk + int(yamc[i])
        yai = np.int64(((yraw0 / (2 * yclk) - xraw0 / (2 * xclk)) + 10) * 32 + xa[i]) % 32
        ya[i] = yai
        xraw = xraw0 + (((int(xa[i]) + 7) % 32) - 16) * xslp
        yraw = yraw0 + (((yai + 7) % 32) - 16) * yslp
        x[i] = (xraw - xcen) * xscl
        y[i] = (yraw - ycen) * yscl
    return x, y, ya


def center_scale_reference(fields: dict[str, np.ndarray], bc: BandConstants):
    """gPhoton 2's numpy ``center_and_scale`` in float64; returns (x, y, ya)."""
    xraw0 = fields["xb"].astype(np.int64) * bc.xclk + fields["xamc"]
    yraw0 = fields["yb"].astype(np.int64) * bc.yclk + fields["yamc"]
    ya = (((yraw0 / (2 * bc.yclk) - xraw0 / (2 * bc.xclk)) + 10) * 32 + fields["xa"]).astype(
        np.int64
    ) % 32
    xraw = xraw0 + (((fields["xa"].astype(np.int64) + 7) % 32) - 16) * bc.xslp
    yraw = yraw0 + (((ya + 7) % 32) - 16) * bc.yslp
    return (xraw - bc.xcen) * bc.xscl, (yraw - bc.ycen) * bc.yscl, ya.astype(np.int16)


def center_and_scale(fields: dict[str, np.ndarray], bc: BandConstants):
    """Detector position in microns from raw fields, with the derived y TAC phase ``ya``.

    Parameters
    ----------
    fields : dict of int16 arrays, shape (n,)
        Output of :func:`decode_photonbytes`.
    bc : BandConstants
        Clock, centre, scale and slope constants of the band and eclipse.

    Returns
    -------
    x, y : float64 arrays, shape (n,)
        Detector microns. gPhoton 2 rounds these to float32 (~0.004 micron); we keep float64.
    ya : int16 array, shape (n,)
        Y TAC phase 0..31, derived from the raw clocks and xa.
    """
    return _center_scale_kernel(
        fields["xb"], fields["xamc"], fields["yb"], fields["yamc"], fields["xa"],
        bc.xclk, bc.yclk, float(bc.xcen), float(bc.ycen), bc.xscl, bc.yscl,
        bc.xslp, bc.yslp,
    )  # fmt: skip


# --------------------------------------------------------------------------------------
# Streaming FITS reader
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Raw6Header:
    """What the two raw6 headers say, plus where the table rows start."""

    band: str
    eclipse: int
    n_events: int
    row_dtype: np.dtype
    heap_bytes: int = 0
    scales: dict[str, tuple[float, float]] = field(default_factory=dict)


_READ_PIECE = 16 << 20
"""Largest single read: a declared size is never allocated before the bytes have arrived."""

MAX_CHUNK_BYTES = 64 << 20
"""Largest chunk :meth:`Raw6Reader.columns` reads at once, whatever the row width."""

_MAX_ROW_BYTES = 2**31 - 1  # numpy's limit on a dtype's itemsize
_BITPIX = (8, 16, 32, 64, -32, -64)
_MISSING = object()


def _open_stream(path: Path) -> BinaryIO:
    if not path.is_file():
        raise Raw6Error(f"raw6 file {path} does not exist")
    with open(path, "rb") as probe:
        magic = probe.read(6)
    if magic[:2] == b"\x1f\x8b":
        return _gzip_reader.open(path, "rb")
    if magic == b"SIMPLE":
        return open(path, "rb")
    raise Raw6Error(f"raw6 file {path} is neither gzip-compressed nor FITS (bad magic bytes)")


def _read_piece(stream: BinaryIO, size: int, path: Path, what: str) -> bytes:
    try:
        return stream.read(size)
    except (EOFError, OSError, zlib.error, _inflate_error) as exc:
        raise Raw6Error(
            f"raw6 file {path} is truncated or corrupt while reading {what}: {exc}"
        ) from exc


def _read_exact(stream: BinaryIO, size: int, path: Path, what: str) -> bytes:
    """Exactly ``size`` bytes, read in pieces of at most 16 MiB (memory follows the file)."""
    if size <= _READ_PIECE:
        data = _read_piece(stream, size, path, what)
        if len(data) == size:
            return data
        parts, missing = [data], size - len(data)
    else:
        parts, missing = [], size
    while missing:
        piece = _read_piece(stream, min(missing, _READ_PIECE), path, what)
        if not piece:
            raise Raw6Error(
                f"raw6 file {path} is truncated: {what} needs {size} bytes, "
                f"only {size - missing} left"
            )
        parts.append(piece)
        missing -= len(piece)
    return b"".join(parts)


def _skip(stream: BinaryIO, size: int, path: Path, what: str) -> None:
    """Read and drop ``size`` bytes, a piece at a time."""
    while size > 0:
        step = min(size, _READ_PIECE)
        _read_exact(stream, step, path, what)
        size -= step


def _read_header(stream: BinaryIO, path: Path, what: str) -> fits.Header:
    blocks = []
    while True:
        block = _read_exact(stream, FITS_BLOCK, path, what)
        blocks.append(block)
        text = block.decode("ascii", errors="replace")
        if any(text[i : i + 80].startswith("END     ") or text[i : i + 80].rstrip() == "END"
               for i in range(0, FITS_BLOCK, 80)):  # fmt: skip
            break
        if len(blocks) > 1000:
            raise Raw6Error(f"raw6 file {path}: {what} has no END card")
    try:
        return fits.Header.fromstring(b"".join(blocks).decode("ascii", errors="replace"))
    except (VerifyError, ValueError, TypeError, KeyError, IndexError) as exc:
        raise Raw6Error(f"raw6 file {path}: {what} cannot be parsed ({exc})") from exc


def _card(header: fits.Header, key: str, path: Path, what: str, default: object = _MISSING):
    """A header value; astropy parses cards lazily, so a corrupt card fails here, typed."""
    try:
        if key not in header:
            if default is _MISSING:
                raise Raw6Error(f"raw6 file {path}: {what} lacks {key}")
            return default
        return header[key]
    except (VerifyError, ValueError, TypeError, KeyError, IndexError) as exc:
        raise Raw6Error(f"raw6 file {path}: {what} card {key} is unreadable ({exc})") from exc


def _int_card(
    header: fits.Header,
    key: str,
    path: Path,
    what: str,
    *,
    default: object = _MISSING,
    low: int | None = None,
    high: int | None = None,
) -> int:
    """An integer header value within ``low..high`` (absurd sizes are refused here)."""
    value = _card(header, key, path, what, default)
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise Raw6Error(f"raw6 file {path}: {what} {key} is not an integer ({value!r})")
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        raise Raw6Error(f"raw6 file {path}: {what} {key} = {value} is out of range")
    return value


def _table_layout(header: fits.Header, path: Path) -> tuple[np.dtype, dict[str, tuple[float, float]]]:
    """The on-disk row layout of the event table, as astropy reads the header, and the scalings.

    astropy interprets the TFORMs (any column order, extra columns of any type, bit and
    string columns, variable-length descriptors); a copy of the header with no rows is parsed,
    so nothing is allocated for the sizes it declares. Rows may be wider than the columns
    (NAXIS1 larger than their sum: the rest of each row is skipped), never narrower.

    Returns
    -------
    dtype : structured dtype, big-endian fields at their byte offsets, itemsize NAXIS1
        Field names lower-cased (FITS names are case-insensitive).
    scales : dict name -> (TSCAL, TZERO) for the t and phb columns that declare either
    """
    what = "the event table header"
    row_bytes = _int_card(header, "NAXIS1", path, what, low=1, high=_MAX_ROW_BYTES)
    _int_card(header, "TFIELDS", path, what, default=0, low=0, high=999)
    empty = header.copy()
    empty["NAXIS2"], empty["PCOUNT"] = 0, 0
    empty.remove("THEAP", ignore_missing=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            hdu = fits.BinTableHDU.fromstring(empty.tostring().encode("ascii"))
            layout = hdu.data.dtype
            columns = list(hdu.columns)
    except Exception as exc:  # astropy raises many types for a broken header; one type here
        raise Raw6Error(f"raw6 file {path}: {what} does not describe a table ({exc})") from exc
    if layout.itemsize > row_bytes:
        raise Raw6Error(
            f"raw6 file {path}: columns take {layout.itemsize} bytes but NAXIS1 is {row_bytes}"
        )
    names, formats, offsets, scales = [], [], [], {}
    for name, column in zip(layout.names, columns, strict=True):
        key = str(name).strip().lower()
        if key in names:
            raise Raw6Error(f"raw6 file {path}: two columns are called {key!r}")
        stored, offset = layout.fields[name][:2]
        names.append(key)
        formats.append(stored)
        offsets.append(offset)
        scale = 1.0 if column.bscale is None else column.bscale
        zero = 0.0 if column.bzero is None else column.bzero
        if key in RAW6_COLUMNS and (scale, zero) != (1.0, 0.0):
            if not (math.isfinite(scale) and math.isfinite(zero)):
                raise Raw6Error(f"raw6 file {path}: column {key} has a non-finite TSCAL/TZERO")
            scales[key] = (float(scale), float(zero))
    try:
        dtype = np.dtype(
            {"names": names, "formats": formats, "offsets": offsets, "itemsize": row_bytes}
        )
    except (TypeError, ValueError) as exc:
        raise Raw6Error(f"raw6 file {path}: cannot describe the event rows ({exc})") from exc
    return dtype, scales


def _check_columns(dtype: np.dtype, path: Path) -> None:
    """``t`` one number per row and ``phb1..phb5`` one integer per row (what the kernels take)."""
    missing = [c for c in RAW6_COLUMNS if c not in dtype.names]
    if missing:
        raise Raw6Error(f"raw6 file {path}: event table lacks column(s) {', '.join(missing)}")
    for name in RAW6_COLUMNS:
        field = dtype[name]
        kinds = "iuf" if name == "t" else "iu"
        if field.shape or field.kind not in kinds:
            raise Raw6Error(
                f"raw6 file {path}: column {name} holds {field}, not one "
                f"{'number' if name == 't' else 'integer'} per event"
            )


_PHB_NAMES = tuple(f"phb{i}" for i in range(1, 6))


def split_rows(
    buf: bytes, dtype: np.dtype, scales: dict[str, tuple[float, float]] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Raw event-table rows -> ``(t, phb)`` as :meth:`Raw6Reader.columns` yields them.

    Parameters
    ----------
    buf : bytes
        Whole rows of the event table, ``len(buf)`` a multiple of ``dtype.itemsize``.
    dtype : numpy structured dtype
        The table's row layout (:attr:`Raw6Header.row_dtype`).
    scales : dict name -> (TSCAL, TZERO), optional
        Applied as FITS readers do (``value = stored * TSCAL + TZERO``); scaled photon bytes
        are rounded to int16, as gPhoton 2 casts what fitsio returns.
    """
    scales = scales or {}
    table = np.frombuffer(buf, dtype=dtype)
    plain = all(dtype[n] == np.uint8 for n in _PHB_NAMES) and not any(n in scales for n in _PHB_NAMES)
    phb = np.empty((5, len(table)), np.uint8 if plain else np.int16)
    for i, name in enumerate(_PHB_NAMES):
        if name in scales:
            scale, zero = scales[name]
            phb[i] = np.rint(table[name] * scale + zero).astype(np.int64).astype(np.int16)
        else:
            phb[i] = table[name]
    t = table["t"].astype(np.float64)
    if "t" in scales:
        scale, zero = scales["t"]
        t = t * scale + zero
    return t, phb


class Raw6Reader:
    """Stream a raw6 file chunk by chunk (use as a context manager).

    Validation happens on open: gzip/FITS magic, integer ``BAND`` and ``ECLIPSE`` in HDU0, a
    BINTABLE HDU1 with a numeric ``t`` and integer ``phb1..phb5``, every size keyword an
    integer in range. A short read, a corrupt gzip stream (its CRC is checked once the events
    and padding are read) or any malformed header raises :class:`Raw6Error` naming the file;
    no other exception escapes, and memory follows the bytes present, never the sizes the
    headers declare.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._stream = _open_stream(self.path)
        try:
            self.header = self._parse_headers()
        except BaseException:
            self._stream.close()
            raise
        self._rows_read = 0

    def _parse_headers(self) -> Raw6Header:
        path = self.path
        primary = _read_header(self._stream, path, "the primary header")
        what = "the primary header"
        band = _int_card(primary, "BAND", path, what)
        eclipse = _int_card(primary, "ECLIPSE", path, what)
        bitpix = _int_card(primary, "BITPIX", path, what)
        if bitpix not in _BITPIX:
            raise Raw6Error(f"raw6 file {path}: primary header BITPIX = {bitpix} is not FITS")
        naxis = _int_card(primary, "NAXIS", path, what, default=0, low=0, high=999)
        if naxis:
            axes = [_int_card(primary, f"NAXIS{i}", path, what, low=0) for i in range(1, naxis + 1)]
            size = abs(bitpix) // 8 * math.prod(axes)
            _skip(self._stream, -(-size // FITS_BLOCK) * FITS_BLOCK, path, "primary data")
        table = _read_header(self._stream, path, "the event table header")
        what = "the event table header"
        if str(_card(table, "XTENSION", path, what, "")).strip() != "BINTABLE":
            raise Raw6Error(f"raw6 file {path}: HDU1 is not a binary table")
        if _int_card(table, "BITPIX", path, what) != 8 or _int_card(table, "NAXIS", path, what) != 2:
            raise Raw6Error(f"raw6 file {path}: HDU1 must have BITPIX = 8 and NAXIS = 2")
        dtype, scales = _table_layout(table, path)
        _check_columns(dtype, path)
        return Raw6Header(
            band=band_from_code(band),
            eclipse=eclipse,
            n_events=_int_card(table, "NAXIS2", path, what, low=0),
            row_dtype=dtype,
            heap_bytes=_int_card(table, "PCOUNT", path, what, default=0, low=0),
            scales=scales,
        )

    def columns(self, chunk_rows: int = 1_000_000) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(t, phb)`` chunks in file order, in the layout the kernels want.

        Chunks hold ``chunk_rows`` events (fewer for the last, and at most 64 MiB of rows).
        Once the last event is read, the rest of the file is read too, so a truncated or
        corrupt gzip stream is reported even when only its end is damaged.

        Returns
        -------
        t : float64, shape (m,)
            GALEX time in native byte order.
        phb : shape (5, m), C-contiguous
            phb1..phb5, one contiguous row per byte; uint8 when the file stores them as
            ``B`` (as raw6 files do), else int16.
        """
        if chunk_rows < 1:
            raise ValueError(f"chunk_rows must be at least 1, not {chunk_rows}")
        dtype = self.header.row_dtype
        itemsize = dtype.itemsize
        chunk_rows = min(chunk_rows, max(1, MAX_CHUNK_BYTES // itemsize))
        while self._rows_read < self.header.n_events:
            rows = min(chunk_rows, self.header.n_events - self._rows_read)
            start = self._rows_read
            buf = _read_exact(
                self._stream, rows * itemsize, self.path, f"events {start}..{start + rows}"
            )
            self._rows_read += rows
            if self._rows_read == self.header.n_events:
                self._read_to_end()
            yield split_rows(buf, dtype, self.header.scales)
        if self.header.n_events == 0:
            self._read_to_end()

    def _read_to_end(self) -> None:
        """The heap and padding after the events, then EOF (where gzip checks its CRC)."""
        data_bytes = self.header.n_events * self.header.row_dtype.itemsize + self.header.heap_bytes
        after_events = self.header.heap_bytes + (-data_bytes) % FITS_BLOCK
        _skip(self._stream, after_events, self.path, "the padding after the events")
        while _read_piece(self._stream, _READ_PIECE, self.path, "the end of the file"):
            pass

    def chunks(self, chunk_rows: int = 1_000_000) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(t, phb)``: float64 shape (m,) and int16 shape (m, 5), in file order."""
        for t, phb in self.columns(chunk_rows):
            yield t, phb.T.astype(np.int16)

    def close(self) -> None:
        self._stream.close()

    def __enter__(self) -> Raw6Reader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def read_raw6_header(path: str | os.PathLike) -> Raw6Header:
    """Band, eclipse and event count of a raw6 file, validating both headers."""
    with Raw6Reader(path) as reader:
        return reader.header


# --------------------------------------------------------------------------------------
# Writer
# --------------------------------------------------------------------------------------
def _header_bytes(cards: list[tuple[str, object, str]]) -> bytes:
    header = fits.Header()
    for key, value, comment in cards:
        header.append((key, value, comment), end=True)
    return header.tostring(sep="", endcard=True, padding=True).encode("ascii")


def write_raw6(
    path: str | os.PathLike,
    *,
    band_code: int,
    eclipse: int,
    chunks: Iterable[tuple[np.ndarray, np.ndarray]],
    compresslevel: int = 6,
) -> int:
    """Write events to a gzip-compressed raw6 FITS file; return the number of rows.

    Parameters
    ----------
    path : path-like
        Destination, conventionally ``e{eclipse:05}-{n|f}d-raw6.fits.gz``.
    band_code : int
        1 for NUV, 2 for FUV (HDU0 ``BAND``).
    eclipse : int
        HDU0 ``ECLIPSE``.
    chunks : iterable of (t, phb)
        Time-sorted GALEX times (float64, s) and packed bytes (uint8, shape (m, 5)).
    compresslevel : int
        gzip level; the file is deterministic (no time stamp in the gzip header).

    Rows are staged in a temporary file so the table header can carry NAXIS2, then the
    FITS file is written to a temporary name and renamed, so readers never see a partial file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n_rows = 0
    with tempfile.TemporaryFile(dir=path.parent) as staging:
        for t, phb in chunks:
            rows = np.zeros(len(t), dtype=_WRITE_DTYPE)
            rows["t"] = t
            for i in range(5):
                rows[f"phb{i + 1}"] = phb[:, i]
            staging.write(rows.tobytes())
            n_rows += len(t)
        staging.seek(0)
        primary = _header_bytes([
            ("SIMPLE", True, "conforms to FITS standard"), ("BITPIX", 8, ""), ("NAXIS", 0, ""),
            ("EXTEND", True, ""), ("BAND", int(band_code), "1 = NUV, 2 = FUV"),
            ("ECLIPSE", int(eclipse), "GALEX eclipse number"),
            ("ORIGIN", "GAIA web", "apps.galex.science.raw6"),
        ])  # fmt: skip
        cards = [
            ("XTENSION", "BINTABLE", "binary table extension"), ("BITPIX", 8, ""), ("NAXIS", 2, ""),
            ("NAXIS1", _WRITE_DTYPE.itemsize, "bytes per event"), ("NAXIS2", n_rows, "events"),
            ("PCOUNT", 0, ""), ("GCOUNT", 1, ""), ("TFIELDS", 7, ""),
            ("TTYPE1", "t", "GALEX time, s since 1980-01-06"), ("TFORM1", "1D", ""),
        ]  # fmt: skip
        for i in range(1, 7):
            cards += [(f"TTYPE{i + 1}", f"phb{i}", "photon byte"), (f"TFORM{i + 1}", "1B", "")]
        table = _header_bytes(cards)
        tmp = path.with_name(f".{path.name}.partial")
        with open(tmp, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw,
                                                   compresslevel=compresslevel, mtime=0) as out:  # fmt: skip
            out.write(primary)
            out.write(table)
            while block := staging.read(16 << 20):
                out.write(block)
            data_bytes = n_rows * _WRITE_DTYPE.itemsize
            out.write(b"\0" * ((-data_bytes) % FITS_BLOCK))
        os.replace(tmp, path)
    return n_rows
