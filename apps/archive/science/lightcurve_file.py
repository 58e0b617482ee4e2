"""Read one MAST light-curve file (Kepler/K2 ``*_llc``/``*_slc``, TESS SPOC ``*_lc``) into arrays.

This is the validated boundary of the ingest: it checks structure and checksums, identifies the
mission from the headers, and returns native-endian contiguous columns ready for Parquet.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .errors import ChecksumMismatch, FitsFormatError, MissingColumns, UnknownMission
from .fits import Hdu, Header, checksum_problems, column_values, parse_hdus, read_bintable
from .naming import k2_campaign
from .quality import DEFAULT_BITMASK, good_quality

FLOAT_COLUMNS = (
    "TIME",
    "PDCSAP_FLUX",
    "PDCSAP_FLUX_ERR",
    "SAP_FLUX",
    "SAP_FLUX_ERR",
    "MOM_CENTR1",
    "MOM_CENTR2",
)
"""Columns copied as they are stored (TIME and centroids float64, fluxes float32)."""

QUALITY_SOURCE = {"kepler": "SAP_QUALITY", "k2": "SAP_QUALITY", "tess": "QUALITY"}
"""The raw quality column of each mission; the series always calls it QUALITY."""

SERIES_COLUMNS = (*FLOAT_COLUMNS, "QUALITY", "CADENCENO", "GOOD_QUALITY")
"""Columns of the Parquet series, in order."""

_STELLAR_KEYS = {
    "ra": ("RA_OBJ",),
    "dec": ("DEC_OBJ",),
    "magnitude": ("KEPMAG", "TESSMAG"),
    "teff": ("TEFF",),
    "logg": ("LOGG",),
    "radius": ("RADIUS",),
    "metallicity": ("FEH", "MH"),
}


@dataclass(frozen=True)
class LightCurveFile:
    """The content of one light-curve file.

    Attributes
    ----------
    mission : str
        ``"kepler"``, ``"k2"`` or ``"tess"``.
    identifier : int
        KIC (Kepler), EPIC (K2) or TIC (TESS) number.
    season : int
        Quarter (Kepler), campaign (K2; a split campaign's parts, ``CAMPAIGN = 101``/``102``,
        are both campaign 10, as in file names) or sector (TESS).
    cadence : str
        ``"long"`` (29.4 min), ``"short"`` (58.8 s Kepler, 20 s TESS) or ``"2min"`` (TESS).
    columns : dict of str to ndarray, each shape (n,)
        The :data:`SERIES_COLUMNS`: TIME in days of the mission system (BKJD = BJD - 2454833,
        BTJD = BJD - 2457000), fluxes in e-/s, centroids in pixels, QUALITY the raw flags,
        GOOD_QUALITY True where no bit of the mission's default mask is set.
    stellar : dict of str to float
        Header stellar parameters that are present: ra/dec (deg), magnitude (Kp or Tmag),
        teff (K), logg (cgs), radius (R_sun), metallicity (dex).
    primary : Header
        The primary header, for provenance (DATA_REL, PROCVER, ...).
    """

    mission: str
    identifier: int
    season: int
    cadence: str
    columns: dict[str, np.ndarray]
    stellar: dict[str, float]
    primary: Header = field(repr=False)
    quality_bitmask: int = 0

    @property
    def n_points(self) -> int:
        return len(self.columns["TIME"])

    @property
    def time_range(self) -> tuple[float, float]:
        """First and last finite time stamp (NaN, NaN when no time is finite)."""
        time = self.columns["TIME"]
        finite = time[np.isfinite(time)]
        if finite.size == 0:
            return float("nan"), float("nan")
        return float(finite.min()), float(finite.max())


def identify_mission(primary: Header) -> str:
    """Kepler, K2 or TESS from the primary header (TELESCOP, MISSION, CAMPAIGN)."""
    telescope = str(primary.get("TELESCOP", "")).strip().upper()
    if telescope == "TESS":
        return "tess"
    if telescope == "KEPLER":
        mission = str(primary.get("MISSION", "")).strip().upper()
        return "k2" if mission == "K2" or "CAMPAIGN" in primary else "kepler"
    raise UnknownMission(f"TELESCOP={telescope or 'missing'!s} is neither Kepler nor TESS")


def _header_int(header: Header, key: str) -> int:
    value = header.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise FitsFormatError(
            f"primary header keyword {key} is missing or not an integer ({value!r})"
        )
    return value


def _finite(value: object) -> float | None:
    """A header value as a finite float, or None (missing, text, bool, NaN, inf, 10**400)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _cadence(mission: str, primary: Header, table_header: Header) -> str:
    if mission in ("kepler", "k2"):
        return "short" if "short" in str(primary.get("OBSMODE", "")).lower() else "long"
    step = _finite(table_header.get("TIMEDEL"))
    seconds = step * 86400.0 if step is not None else 120.0
    if seconds < 60.0:
        return "short"
    return "2min" if seconds <= 150.0 else "long"


def _stellar(primary: Header) -> dict[str, float]:
    values: dict[str, float] = {}
    for name, keys in _STELLAR_KEYS.items():
        for key in keys:
            value = _finite(primary.get(key))  # K2 headers have TEFF etc. without a value
            if value is not None:
                values[name] = value
                break
    return values


def _check_scalar_number(dtype: np.dtype, name: str, *, integer: bool) -> None:
    """A series column must hold one number per row (integers for flags and cadence numbers)."""
    kinds = "iu" if integer else "iuf"
    if dtype.shape or dtype.kind not in kinds:
        what = "an integer" if integer else "a number"
        shape = dtype.shape or ""
        raise FitsFormatError(f"column {name} is {dtype.str}{shape}, not {what} per row")


def table_columns(
    buf: bytes | memoryview,
    hdus: list[Hdu],
    quality_names: tuple[str, ...],
    *,
    optional: tuple[str, ...] = (),
) -> tuple[dict[str, np.ndarray], Header]:
    """The LIGHTCURVE table's columns, checked and native-endian: the one place both readers
    (:func:`read_lightcurve`, ``lightcurves.science.io.read_fits``) take them from.

    Parameters
    ----------
    buf, hdus
        The file and its HDUs (:func:`~.fits.parse_hdus`).
    quality_names : tuple of str
        Quality column names in order of preference; the first present is returned as QUALITY.
    optional : tuple of str
        Integer columns returned when present (e.g. CADENCENO).

    Returns
    -------
    (dict of str to ndarray, Header)
        :data:`FLOAT_COLUMNS`, QUALITY and the optional columns present (TSCALn/TZEROn
        applied), and the table's header.

    Raises
    ------
    FitsFormatError
        No LIGHTCURVE extension, or a column that does not hold one number per row.
    MissingColumns
        A float column or every quality column is absent.
    """
    table_hdu = next((h for h in hdus[1:] if h.name.upper() == "LIGHTCURVE"), None)
    if table_hdu is None:
        raise FitsFormatError("no LIGHTCURVE extension: not a light-curve file")
    table = read_bintable(buf, table_hdu)
    names = set(table.dtype.names or ())
    quality = next((name for name in quality_names if name in names), None)
    missing = [name for name in FLOAT_COLUMNS if name not in names]
    if quality is None:
        missing.append(" or ".join(dict.fromkeys(quality_names)))
    if missing:
        raise MissingColumns(f"LIGHTCURVE table lacks {', '.join(missing)}")
    integers = (quality, *(name for name in optional if name in names))
    for name in (*FLOAT_COLUMNS, *integers):
        _check_scalar_number(table.dtype[name], name, integer=name in integers)
    columns = {name: column_values(table, table_hdu.header, name) for name in FLOAT_COLUMNS}
    columns["QUALITY"] = column_values(table, table_hdu.header, quality)
    for name in integers[1:]:
        columns[name] = column_values(table, table_hdu.header, name)
    return columns, table_hdu.header


def read_lightcurve(buf: bytes | memoryview, *, verify_checksums: bool = True) -> LightCurveFile:
    """Parse, verify and extract one light-curve file held in memory.

    Parameters
    ----------
    buf : bytes
        The whole file.
    verify_checksums : bool
        Check CHECKSUM/DATASUM keywords where present (default). Structure is always checked.

    Raises
    ------
    FitsFormatError, FitsTruncated
        Not FITS, malformed, or shorter/longer than its headers say.
    ChecksumMismatch
        A CHECKSUM/DATASUM keyword disagrees with the bytes.
    UnknownMission
        TELESCOP is neither Kepler nor TESS.
    MissingColumns
        The LIGHTCURVE table lacks a needed column.

    All of these subclass :class:`~.errors.ArchiveDataError` (a ValueError); nothing else is
    raised, whatever the bytes (the reader is fuzzed with truncated, flipped and absurd files).
    """
    hdus = parse_hdus(buf)
    if verify_checksums:
        problems = checksum_problems(buf, hdus)
        if problems:
            raise ChecksumMismatch("; ".join(problems))
    primary = hdus[0].header
    mission = identify_mission(primary)
    quality_names = (QUALITY_SOURCE[mission], "QUALITY")
    columns, table_header = table_columns(buf, hdus, quality_names, optional=("CADENCENO",))
    quality = columns["QUALITY"] = columns["QUALITY"].astype(np.int32, copy=False)
    if "CADENCENO" in columns:
        columns["CADENCENO"] = columns["CADENCENO"].astype(np.int32)
    else:
        columns["CADENCENO"] = np.full(len(quality), -1, dtype=np.int32)
    bitmask = DEFAULT_BITMASK[mission]
    columns["GOOD_QUALITY"] = good_quality(quality, bitmask)
    id_key = "TICID" if mission == "tess" else "KEPLERID"
    season_key = {"kepler": "QUARTER", "k2": "CAMPAIGN", "tess": "SECTOR"}[mission]
    season = _header_int(primary, season_key)
    return LightCurveFile(
        mission=mission,
        identifier=_header_int(primary, id_key),
        season=k2_campaign(season) if mission == "k2" else season,
        cadence=_cadence(mission, primary, table_header),
        columns=columns,
        stellar=_stellar(primary),
        primary=primary,
        quality_bitmask=bitmask,
    )
