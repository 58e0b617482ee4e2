"""Reading Kepler/TESS light curves into a small dataclass of arrays.

Two sources give the same :class:`LightCurve`: a MAST light-curve FITS file (``read_fits``) and a
pandas DataFrame in the Parquet layout the archive ingest writes (``from_dataframe``).

FITS files are parsed by the archive's strict reader (:mod:`apps.archive.science.fits`, compared
value for value with astropy in its tests), and their LIGHTCURVE table is taken by the ingest's
own code (``lightcurve_file.table_columns``). The reader checks every declared size against the
file's size before it looks at the data, so a corrupt or hostile file costs no more memory than
its bytes and always ends in :class:`InvalidInput` or :class:`MissingColumns`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from apps.archive.science.errors import FitsFormatError
from apps.archive.science.errors import MissingColumns as ArchiveMissingColumns
from apps.archive.science.fits import Header, parse_hdus
from apps.archive.science.lightcurve_file import table_columns
from apps.archive.science.naming import k2_campaign

from .errors import InvalidInput, MissingColumns

FLOAT_COLUMNS = {
    "time": "TIME",
    "flux": "PDCSAP_FLUX",
    "flux_err": "PDCSAP_FLUX_ERR",
    "sap_flux": "SAP_FLUX",
    "sap_flux_err": "SAP_FLUX_ERR",
    "centroid_col": "MOM_CENTR1",
    "centroid_row": "MOM_CENTR2",
}
"""Dataclass field -> column name, shared by the FITS and the Parquet layouts."""

QUALITY_COLUMNS = ("QUALITY", "SAP_QUALITY")
"""TESS names the quality column QUALITY, Kepler SAP_QUALITY; the Parquet layout uses QUALITY."""


@dataclass(frozen=True, eq=False)
class LightCurve:
    """One light curve (a quarter, a sector, or several stitched), as plain arrays.

    Attributes
    ----------
    time : ndarray, shape (n,)
        Mid-cadence times in the mission's own system, days: BKJD (BJD - 2454833) for Kepler,
        BTJD (BJD - 2457000) for TESS. TCE epochs must be given in the same system.
    flux, flux_err : ndarray, shape (n,)
        PDCSAP flux and its error, e-/s (or relative units once normalised).
    sap_flux, sap_flux_err : ndarray, shape (n,)
        Simple-aperture flux and its error, e-/s.
    centroid_col, centroid_row : ndarray, shape (n,)
        Flux-weighted centroid (MOM_CENTR1/2), pixels.
    quality : ndarray of int64, shape (n,)
        Quality bit flags of each cadence (0 = clean).
    mission : str
        ``"Kepler"``, ``"K2"`` or ``"TESS"``.
    target_id : int
        KIC / EPIC / TIC number.
    segment : int
        Quarter (Kepler), campaign (K2) or sector (TESS); -1 for a stitched curve.
    part : ndarray of int64, shape (n,)
        Index of the input curve each cadence came from (all 0 for a single file); stitching
        keeps it so cleaning can split and normalise per quarter.
    """

    time: np.ndarray
    flux: np.ndarray
    flux_err: np.ndarray
    sap_flux: np.ndarray
    sap_flux_err: np.ndarray
    centroid_col: np.ndarray
    centroid_row: np.ndarray
    quality: np.ndarray
    mission: str = "Kepler"
    target_id: int = 0
    segment: int = 0
    part: np.ndarray = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        n = len(self.time)
        for name in (*FLOAT_COLUMNS, "quality"):
            if len(getattr(self, name)) != n:
                raise InvalidInput(
                    f"column {name!r} has {len(getattr(self, name))} values, time has {n}"
                )
        if self.part is None:
            object.__setattr__(self, "part", np.zeros(n, dtype=np.int64))

    def __len__(self) -> int:
        return len(self.time)

    def take(self, index: np.ndarray) -> LightCurve:
        """Return the cadences selected by a boolean mask or an index array, as a new curve."""
        arrays = {name: getattr(self, name)[index] for name in (*FLOAT_COLUMNS, "quality", "part")}
        return LightCurve(
            **arrays, mission=self.mission, target_id=self.target_id, segment=self.segment
        )

    def replace(self, **arrays: np.ndarray) -> LightCurve:
        """Return a copy with some arrays replaced (same length)."""
        current = {name: getattr(self, name) for name in (*FLOAT_COLUMNS, "quality", "part")}
        current.update(arrays)
        return LightCurve(
            **current, mission=self.mission, target_id=self.target_id, segment=self.segment
        )


def _float(values: object) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(values, dtype=np.float64))


def _mission_from_header(header: Header) -> str:
    telescope = str(header.get("TELESCOP", "")).upper()
    if "TESS" in telescope or "TICID" in header:
        return "TESS"
    if header.get("MISSION", "") == "K2" or "CAMPAIGN" in header:
        return "K2"
    return "Kepler"


def _header_int(header: Header, keys: tuple[str, ...], name: str) -> int:
    """The first of ``keys`` with a value, as an int (0 when none has one)."""
    for key in keys:
        value = header.get(key)
        if value is None or value == "":
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput(f"{name}: header keyword {key} is not an integer ({value!r})")
        return value
    return 0


def read_fits(path: str | Path) -> LightCurve:
    """Read a Kepler/K2/TESS light-curve FITS file (HDU ``LIGHTCURVE``).

    Parameters
    ----------
    path : str or Path
        A MAST ``*_llc.fits``, ``*_slc.fits`` or ``*_lc.fits`` file.

    Returns
    -------
    LightCurve
        All cadences, NaNs kept (cleaning is a separate step so each preset chooses its own).

    Raises
    ------
    InvalidInput
        The file cannot be read, is not a well-formed FITS file (truncated, corrupt, absurd
        sizes) or has no ``LIGHTCURVE`` table.
    MissingColumns
        The table lacks TIME, PDCSAP_FLUX or another required column.
    """
    path = Path(path)
    try:
        buf = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"{path.name}: cannot read FITS file ({exc})") from exc
    try:
        hdus = parse_hdus(buf)
        columns, _ = table_columns(buf, hdus, QUALITY_COLUMNS)
        header = hdus[0].header  # its values are parsed on access: may raise FitsFormatError
        mission = _mission_from_header(header)
        target = _header_int(header, ("TICID", "KEPLERID", "K2_ID"), path.name)
        segment = _header_int(header, ("SECTOR", "QUARTER", "CAMPAIGN"), path.name)
    except ArchiveMissingColumns as exc:
        raise MissingColumns(f"{path.name}: {exc}") from exc
    except FitsFormatError as exc:
        raise InvalidInput(f"{path.name}: cannot read FITS file ({exc})") from exc
    arrays = {key: _float(columns[col]) for key, col in FLOAT_COLUMNS.items()}
    arrays["quality"] = np.asarray(columns["QUALITY"], dtype=np.int64)
    if mission == "K2":
        segment = k2_campaign(segment)
    return LightCurve(**arrays, mission=mission, target_id=target, segment=segment)


def from_dataframe(
    frame: pd.DataFrame, *, mission: str = "Kepler", target_id: int = 0, segment: int = 0
) -> LightCurve:
    """Build a :class:`LightCurve` from the archive ingest's Parquet layout.

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns TIME, PDCSAP_FLUX, PDCSAP_FLUX_ERR, SAP_FLUX, SAP_FLUX_ERR, MOM_CENTR1, MOM_CENTR2
        and QUALITY (SAP_QUALITY is accepted too), one row per cadence.
    mission, target_id, segment
        Metadata the table does not carry.

    Raises
    ------
    MissingColumns
        A required column is absent.
    """
    quality = next((q for q in QUALITY_COLUMNS if q in frame.columns), None)
    missing = [c for c in FLOAT_COLUMNS.values() if c not in frame.columns]
    if quality is None:
        missing.append("QUALITY")
    if missing:
        raise MissingColumns(f"table is missing columns {', '.join(missing)}")
    arrays = {key: _float(frame[col].to_numpy()) for key, col in FLOAT_COLUMNS.items()}
    arrays["quality"] = np.asarray(frame[quality].fillna(0).to_numpy(), dtype=np.int64)
    return LightCurve(**arrays, mission=mission, target_id=int(target_id), segment=int(segment))
