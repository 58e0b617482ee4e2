"""raw6 FITS writer (gzip, deterministic, atomic)."""

from __future__ import annotations

import gzip
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

import numpy as np
from astropy.io import fits

from .reader import FITS_BLOCK

_WRITE_DTYPE = np.dtype(
    [("t", ">f8")] + [(f"phb{i}", "u1") for i in range(1, 7)]
)  # 14-byte rows: t 'D' + phb1..phb6 'B'


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
    with tempfile.TemporaryFile(dir=path.parent) as staging:
        n_rows = _stage_rows(chunks, staging)
        staging.seek(0)
        tmp = path.with_name(f".{path.name}.partial")
        with open(tmp, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw,
                                                   compresslevel=compresslevel, mtime=0) as out:  # fmt: skip
            out.write(_primary_header(band_code, eclipse))
            out.write(_table_header(n_rows))
            while block := staging.read(16 << 20):
                out.write(block)
            data_bytes = n_rows * _WRITE_DTYPE.itemsize
            out.write(b"\0" * ((-data_bytes) % FITS_BLOCK))
        os.replace(tmp, path)
    return n_rows


def _stage_rows(chunks: Iterable[tuple[np.ndarray, np.ndarray]], staging: BinaryIO) -> int:
    """Write the chunks as 14-byte FITS rows to ``staging``; returns the number of rows."""
    n_rows = 0
    for t, phb in chunks:
        rows = np.zeros(len(t), dtype=_WRITE_DTYPE)
        rows["t"] = t
        for i in range(5):
            rows[f"phb{i + 1}"] = phb[:, i]
        staging.write(rows.tobytes())
        n_rows += len(t)
    return n_rows


def _primary_header(band_code: int, eclipse: int) -> bytes:
    return _header_bytes([
        ("SIMPLE", True, "conforms to FITS standard"), ("BITPIX", 8, ""), ("NAXIS", 0, ""),
        ("EXTEND", True, ""), ("BAND", int(band_code), "1 = NUV, 2 = FUV"),
        ("ECLIPSE", int(eclipse), "GALEX eclipse number"),
        ("ORIGIN", "GAIA web", "apps.galex.science.raw6"),
    ])  # fmt: skip


def _table_header(n_rows: int) -> bytes:
    cards = [
        ("XTENSION", "BINTABLE", "binary table extension"), ("BITPIX", 8, ""), ("NAXIS", 2, ""),
        ("NAXIS1", _WRITE_DTYPE.itemsize, "bytes per event"), ("NAXIS2", n_rows, "events"),
        ("PCOUNT", 0, ""), ("GCOUNT", 1, ""), ("TFIELDS", 7, ""),
        ("TTYPE1", "t", "GALEX time, s since 1980-01-06"), ("TFORM1", "1D", ""),
    ]  # fmt: skip
    for i in range(1, 7):
        cards += [(f"TTYPE{i + 1}", f"phb{i}", "photon byte"), (f"TFORM{i + 1}", "1B", "")]
    return _header_bytes(cards)
