"""Photon-list Parquet files: schema, writer options, names, statistics, re-sorting and
post-CSP ghost flags."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..constants import (
    FLAG_GHOST,
    file_prefix,
)

PHOTONLIST_FIELDS = [
    ("t", pa.float64()), ("ra", pa.float64()), ("dec", pa.float64()), ("flags", pa.uint8()),
    ("col", pa.float32()), ("row", pa.float32()), ("detrad", pa.float32()),
    ("mask", pa.bool_()), ("response", pa.float32()),
]  # fmt: skip
EXTENDED_FIELDS = [("q", pa.int16()), ("ya", pa.int16())]


# No column of a photon list is ever null (ra/dec are NaN where the aspect step fails), so
# the columns are required: Parquet then stores no definition levels, which were a third of
# the write time. Compression only where it pays: t (quantised times repeat 16x), flags and
# mask; the other floats are incompressible; plain flags compress as well as a dictionary
# would. Together 2x faster than snappy on all. Min/max statistics on every column: gPhoton 2
# reads row group 0's (``get_parquet_stats``: t min for burst names, flags min and ra max to
# skip legs with no usable events) and cannot open a photon list without them.
PARQUET_OPTIONS = {
    "compression": {"t": "snappy", "flags": "snappy", "mask": "snappy"},
    "use_dictionary": False,
    "write_statistics": True,
}


def writer_options(schema: pa.Schema) -> dict:
    codecs = PARQUET_OPTIONS["compression"]
    return {**PARQUET_OPTIONS, "compression": {n: codecs.get(n, "none") for n in schema.names}}


def photonlist_schema(extended: bool = False) -> pa.Schema:
    """Arrow schema of a photon list (gPhoton 2 column names and types, all non-null)."""
    fields = PHOTONLIST_FIELDS + (EXTENDED_FIELDS if extended else [])
    return pa.schema([pa.field(name, dtype, nullable=False) for name, dtype in fields])


def photonlist_stats(path: str | os.PathLike, columns: list[str], row_group: int = 0) -> dict[str, dict]:
    """Min/max statistics of ``columns`` in one row group, read the way gPhoton 2 reads them
    (``parquet_utils.get_parquet_stats``: the metadata's ``to_dict()``)."""
    group = pq.read_metadata(path).row_group(row_group)
    return {c["path_in_schema"]: c["statistics"] for c in group.to_dict()["columns"] if c["path_in_schema"] in columns}


def photonlist_start_time(path: str | os.PathLike) -> float | None:
    """gPhoton 2's ``ctx.start_time``: the t minimum of row group 0 of (leg 0's) photon list."""
    stats = photonlist_stats(path, ["t"]).get("t") or {}
    return None if stats.get("min") is None else float(stats["min"])


def photonlist_name(eclipse: int, band: str, leg: int) -> str:
    """gPhoton 2 name, e.g. ``e23456-nd-b00.parquet``."""
    return f"{file_prefix(eclipse, band)}-b{leg:02d}.parquet"

def sort_photonlist(path: Path, schema: pa.Schema) -> None:
    """Rewrite a photon list in time order (stable), for a raw6 file whose events were not.

    Holds the whole leg in memory, as gPhoton 2 always does; only unsorted files need it.
    """
    table = pq.read_table(path)
    order = np.argsort(table["t"].to_numpy(), kind="stable")
    pq.write_table(table.take(pa.array(order)).cast(schema), path, **writer_options(schema))

# --------------------------------------------------------------------------------------
# Post-CSP ghosts
# --------------------------------------------------------------------------------------
def flag_ghosts(cols: dict[str, np.ndarray], n_bins: int = 1600) -> np.ndarray:
    """Post-CSP ghost flag (gPhoton 2 ``flag_ghosts``): sky bins with mean ya < 6 and > 15 events.

    Parameters
    ----------
    cols : photon-list columns ra, dec (float64, deg), ya (int), col, row (detector pixels)
        and flags (uint8), all shape (n,).
    n_bins : bins per axis over the ra/dec range of valid events.

    Returns
    -------
    uint8 flags with 120 for events in ghost bins.
    """
    ra, dec, ya, col, row = (cols[c] for c in ("ra", "dec", "ya", "col", "row"))
    flags = cols["flags"].copy()
    valid = (
        (col >= 0) & (col <= 800) & (row >= 0) & (row <= 800) & np.isfinite(ra) & np.isfinite(dec)
    )
    if not valid.any():
        return flags
    rv, dv, yv = ra[valid], dec[valid], ya[valid].astype(np.float64)
    ra_min, ra_max, dec_min, dec_max = rv.min(), rv.max(), dv.min(), dv.max()
    if ra_max == ra_min or dec_max == dec_min:
        return flags
    counts, _, _ = np.histogram2d(rv, dv, bins=n_bins, range=[[ra_min, ra_max], [dec_min, dec_max]])
    sums, _, _ = np.histogram2d(
        rv, dv, bins=n_bins, range=[[ra_min, ra_max], [dec_min, dec_max]], weights=yv
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        ghost_bins = (sums / counts < 6) & (counts > 15)
    ra_ix = (ra - ra_min) / ((ra_max - ra_min) / n_bins)
    dec_ix = (dec - dec_min) / ((dec_max - dec_min) / n_bins)
    ok = np.isfinite(ra_ix) & np.isfinite(dec_ix)
    ok[ok] &= (ra_ix[ok] >= 0) & (ra_ix[ok] < n_bins) & (dec_ix[ok] >= 0) & (dec_ix[ok] < n_bins)
    hit = np.zeros(len(flags), bool)
    hit[ok] = ghost_bins[ra_ix[ok].astype(int), dec_ix[ok].astype(int)]
    flags[hit] = FLAG_GHOST
    return flags


def flag_ghosts_in_file(path: Path, schema: pa.Schema) -> None:
    """Rewrite a post-CSP photon list with ghost flags (needs the whole leg's ra/dec/ya)."""
    table = pq.read_table(path)
    cols = {c: table[c].to_numpy() for c in ("ra", "dec", "ya", "col", "row", "flags")}
    flags = flag_ghosts(cols)
    table = table.set_column(
        schema.get_field_index("flags"), schema.field("flags"), pa.array(flags, pa.uint8())
    )
    pq.write_table(table.cast(schema), path, **writer_options(schema))
