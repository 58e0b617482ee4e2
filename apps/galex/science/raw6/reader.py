"""Streaming raw6 FITS reader: validates both headers, yields the events in row chunks."""

from __future__ import annotations

import gzip
import math
import os
import warnings
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
from astropy.io import fits
from astropy.io.fits.verify import VerifyError

from ..constants import band_from_code
from ..errors import Raw6Error

try:  # ISA-L's gzip reader inflates about twice as fast as the stdlib's zlib.
    from isal import igzip as _gzip_reader
    from isal.isal_zlib import error as _inflate_error
except ImportError:  # pragma: no cover - exercised only where isal is not installed
    _gzip_reader = gzip
    _inflate_error = zlib.error

FITS_BLOCK = 2880
RAW6_COLUMNS = ("t", "phb1", "phb2", "phb3", "phb4", "phb5")


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
    layout, columns = _parse_columns(header, path, what)
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
        if key in RAW6_COLUMNS and (scaling := _scaling(column, key, path)) is not None:
            scales[key] = scaling
    try:
        dtype = np.dtype(
            {"names": names, "formats": formats, "offsets": offsets, "itemsize": row_bytes}
        )
    except (TypeError, ValueError) as exc:
        raise Raw6Error(f"raw6 file {path}: cannot describe the event rows ({exc})") from exc
    return dtype, scales


def _parse_columns(header: fits.Header, path: Path, what: str) -> tuple[np.dtype, list[fits.Column]]:
    """astropy's row dtype and columns of a table header, parsed from a copy with no rows."""
    empty = header.copy()
    empty["NAXIS2"], empty["PCOUNT"] = 0, 0
    empty.remove("THEAP", ignore_missing=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            hdu = fits.BinTableHDU.fromstring(empty.tostring().encode("ascii"))
            return hdu.data.dtype, list(hdu.columns)
    except Exception as exc:  # astropy raises many types for a broken header; one type here
        raise Raw6Error(f"raw6 file {path}: {what} does not describe a table ({exc})") from exc


def _scaling(column: fits.Column, key: str, path: Path) -> tuple[float, float] | None:
    """A column's (TSCAL, TZERO), or None when it declares neither."""
    scale = 1.0 if column.bscale is None else column.bscale
    zero = 0.0 if column.bzero is None else column.bzero
    if (scale, zero) == (1.0, 0.0):
        return None
    if not (math.isfinite(scale) and math.isfinite(zero)):
        raise Raw6Error(f"raw6 file {path}: column {key} has a non-finite TSCAL/TZERO")
    return float(scale), float(zero)


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
