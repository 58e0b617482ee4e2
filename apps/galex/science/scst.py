"""MAST spacecraft-state (``-scst``) files as aspect tables, and a writer for tests.

MAST serves, per eclipse, the raw6 file of each band and one ``scst`` file (the "BOTH" row of
gPhoton 2's ``spGetRawUrls`` query). gPhoton 2 no longer reads scst files in its pipeline (its
consolidated ``aspect.parquet`` tables replaced them) but its ``aspect2`` table is the scst
attitude: ``pktime, ra_acs, dec_acs, roll_acs`` renamed to ``time, ra, dec, roll`` and kept where
``hvnom_nuv`` or ``hvnom_fuv`` is 1 (gPhoton 2 tests ``hvnom_nuv`` twice, a typo; we test both).

What the scst file does not say, we choose (documented in the README):

* aspect flags: ``status_flag`` when the file has it, else 0 (all fixes good);
* legs: a new leg starts after a gap of more than ``LEG_GAP_S`` seconds between kept rows; its
  boresight (ra0, dec0) is the median pointing of its rows.

Columns are found case-insensitively, with the names of the refined aspect files (``t``, ``ra``,
``dec``, ``roll``) accepted too.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from astropy.io import fits

from .errors import AspectError

LEG_GAP_S = 60.0
_NAMES = {
    "time": ("pktime", "t", "time"),
    "ra": ("ra_acs", "ra"),
    "dec": ("dec_acs", "dec"),
    "roll": ("roll_acs", "roll"),
}


def _column(table: fits.FITS_rec, names: dict[str, str], choices: tuple[str, ...], path: Path) -> np.ndarray:
    for choice in choices:
        if choice in names:
            return np.asarray(table[names[choice]], dtype=np.float64)
    raise AspectError(f"scst file {path} lacks a column {' or '.join(choices)}")


def scst_tables(path: str | os.PathLike, eclipse: int) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Aspect rows, boresight rows (one per leg) and metadata of an scst file.

    Returns DataFrames in gPhoton 2's ``aspect.parquet`` / ``boresight.parquet`` columns.
    Raises :class:`AspectError` for an unreadable file, missing columns or another eclipse.
    """
    path = Path(path)
    try:
        with warnings.catch_warnings(), fits.open(path) as hdul:
            warnings.simplefilter("ignore")
            header = hdul[0].header
            table = hdul[1].data
            names = {n.lower(): n for n in table.columns.names}
            time, ra, dec, roll = (_column(table, names, _NAMES[k], path) for k in ("time", "ra", "dec", "roll"))
            flags = (
                np.asarray(table[names["status_flag"]], np.int64)
                if "status_flag" in names
                else np.zeros(len(time), np.int64)
            )
            hv = [np.asarray(table[names[c]]) == 1 for c in ("hvnom_nuv", "hvnom_fuv") if c in names]
            file_eclipse = header.get("ECLIPSE")
    except AspectError:
        raise
    except Exception as exc:  # astropy raises many types for a broken file; one type here
        raise AspectError(f"scst file {path} cannot be read: {exc}") from exc
    if file_eclipse is not None and int(file_eclipse) != int(eclipse):
        raise AspectError(f"scst file {path} is for eclipse {file_eclipse}, not {eclipse}")
    keep = np.isfinite(time) & np.isfinite(ra) & np.isfinite(dec) & np.isfinite(roll)
    if hv:
        keep &= np.logical_or.reduce(hv)
    order = np.argsort(time[keep], kind="stable")
    time, ra, dec, roll, flags = (a[keep][order] for a in (time, ra, dec, roll, flags))
    asp = pd.DataFrame({"eclipse": np.full(len(time), int(eclipse), np.int64), "time": time,
                        "ra": ra, "dec": dec, "roll": roll, "flags": flags})  # fmt: skip
    bore = _boresight(int(eclipse), time, ra, dec)
    metadata = {"eclipse": int(eclipse), "observed_legs": len(bore), "aspect_source": "scst"}
    return asp, bore, metadata


def _boresight(eclipse: int, time: np.ndarray, ra: np.ndarray, dec: np.ndarray) -> pd.DataFrame:
    """One boresight row per leg (legs split at gaps over ``LEG_GAP_S``): start, duration and
    median pointing of the time-sorted aspect rows."""
    starts = np.concatenate([[0], np.flatnonzero(np.diff(time) > LEG_GAP_S) + 1]) if len(time) else []
    ends = list(starts[1:]) + [len(time)] if len(time) else []
    rows = []
    for leg, (lo, hi) in enumerate(zip(starts, ends, strict=True)):
        leg_ra = ra[lo:hi]
        # the median of ra near 0/360 is taken on the side where the leg is
        wrapped = np.where(leg_ra > 180, leg_ra - 360, leg_ra) if np.ptp(leg_ra) > 180 else leg_ra
        rows.append({"eclipse": eclipse, "leg": leg + 1, "time": float(time[lo]),
                     "duration": float(time[hi - 1] - time[lo] + 1), "ra0": float(np.median(wrapped) % 360),
                     "dec0": float(np.median(dec[lo:hi]))})  # fmt: skip
    return pd.DataFrame(rows, columns=["eclipse", "leg", "time", "duration", "ra0", "dec0"])


def write_scst(
    path: str | os.PathLike,
    *,
    eclipse: int,
    time: np.ndarray,
    ra: np.ndarray,
    dec: np.ndarray,
    roll: np.ndarray,
    flags: np.ndarray | None = None,
) -> Path:
    """Write an scst-like FITS file (gzip when the name ends in .gz) from 1-s attitude rows.

    Columns ``pktime, ra_acs, dec_acs, roll_acs, status_flag, hvnom_nuv, hvnom_fuv``; HDU0 has
    ``ECLIPSE`` and the pointing keywords ``RA_CENT``, ``DEC_CENT``, ``ROLL``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = len(time)
    flags = np.zeros(n, np.int32) if flags is None else np.asarray(flags, np.int32)
    columns = [
        fits.Column(name="pktime", format="D", array=np.asarray(time, np.float64)),
        fits.Column(name="ra_acs", format="D", array=np.asarray(ra, np.float64)),
        fits.Column(name="dec_acs", format="D", array=np.asarray(dec, np.float64)),
        fits.Column(name="roll_acs", format="D", array=np.asarray(roll, np.float64)),
        fits.Column(name="status_flag", format="J", array=flags),
        fits.Column(name="hvnom_nuv", format="I", array=np.ones(n, np.int16)),
        fits.Column(name="hvnom_fuv", format="I", array=np.ones(n, np.int16)),
    ]
    primary = fits.PrimaryHDU()
    primary.header["ECLIPSE"] = int(eclipse)
    primary.header["RA_CENT"] = float(np.median(ra))
    primary.header["DEC_CENT"] = float(np.median(dec))
    primary.header["ROLL"] = float(np.median(roll))
    tmp = path.with_name(f".{path.name}.partial{path.suffix}")
    fits.HDUList([primary, fits.BinTableHDU.from_columns(columns)]).writeto(tmp, overwrite=True)
    os.replace(tmp, path)
    return path
