"""Read and normalise catalogue tables (Kepler DR24/DR25 TCEs, robovetter, KOI, stellar, TOI).

Each ``normalize_*`` function takes the table as a pandas DataFrame (from the Exoplanet Archive
TAP service or a local export) and returns :class:`CatalogRows`: one frame of targets and, for
event tables, one frame of TCEs, with the project's column names and units. Rows that cannot
become valid TCEs (no period, non-positive duration, bad identifier) are counted in ``rejected``
with the reason, never silently dropped. The database write lives in the services.

Normalised TCE columns: ``identifier`` (int), ``tce_number`` (int), ``period_days`` (d),
``epoch`` (mission time system: BKJD for Kepler, BTJD for TESS), ``duration_hours`` (h),
``depth_ppm``, ``snr``, ``mes`` (float or NaN), ``disposition`` (str) and ``extra`` (dict of the
remaining catalogue columns). Target columns: ``identifier`` plus any of ``ra``, ``dec`` (deg),
``magnitude``, ``teff`` (K), ``logg`` (cgs), ``metallicity`` (dex), ``radius`` (R_sun),
``mass`` (M_sun), ``name`` and ``aliases`` (list of str).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import TableFormatError

BTJD_OFFSET = 2457000.0
"""BTJD = BJD - 2457000 (TESS mission time)."""

STELLAR_FIELDS = ("ra", "dec", "magnitude", "teff", "logg", "metallicity", "radius", "mass")
TCE_FIELDS = ("period_days", "epoch", "duration_hours", "depth_ppm", "snr", "mes")

KOI_DISPOSITIONS = {
    "CONFIRMED": "CP",
    "CANDIDATE": "PC",
    "FALSE POSITIVE": "FP",
    "NOT DISPOSITIONED": "UNK",
}
"""KOI table disposition -> our disposition letters."""

_PLANET_LETTER = re.compile(r"^(.*\S)\s+[a-z]$")


@dataclass
class CatalogRows:
    """Normalised rows of one catalogue table, ready for the database upsert."""

    targets: pd.DataFrame
    tces: pd.DataFrame | None = None
    rejected: list[str] = field(default_factory=list)


def read_table(path: Path) -> pd.DataFrame:
    """Read a catalogue CSV export; ``#`` comment lines (as in Archive downloads) are skipped."""
    try:
        return pd.read_csv(path, comment="#", low_memory=False)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise TableFormatError(f"{Path(path).name}: cannot read as CSV ({exc})") from exc


def read_robovetter(path: Path) -> pd.DataFrame:
    """Read the DR25 robovetter output (whitespace-separated, one ``#`` header line)."""
    names = [
        "tce",
        "score",
        "disposition",
        "flag_nt",
        "flag_ss",
        "flag_co",
        "flag_em",
        "minor_flags",
    ]
    try:
        frame = pd.read_csv(
            path, sep=r"\s+", comment="#", header=None, names=names, dtype={"tce": str}, engine="c"
        )
    except (OSError, pd.errors.ParserError) as exc:
        raise TableFormatError(f"{Path(path).name}: cannot read robovetter table ({exc})") from exc
    parts = frame["tce"].str.split("-", n=1, expand=True)
    if parts.shape[1] != 2:
        raise TableFormatError(
            f"{Path(path).name}: TCE column is not KIC-planet, e.g. 011442793-03"
        )
    frame["kepid"] = pd.to_numeric(parts[0], errors="coerce")
    frame["tce_plnt_num"] = pd.to_numeric(parts[1], errors="coerce")
    return frame


def _first(frame: pd.DataFrame, *names: str) -> pd.Series:
    """The first of ``names`` that is a column, as float; NaN everywhere when none is."""
    for name in names:
        if name in frame.columns:
            return pd.to_numeric(frame[name], errors="coerce")
    return pd.Series(np.nan, index=frame.index, dtype=float)


def _require(frame: pd.DataFrame, table: str, *groups: tuple[str, ...]) -> None:
    missing = [" or ".join(group) for group in groups if not any(n in frame.columns for n in group)]
    if missing:
        raise TableFormatError(f"{table} table lacks column(s): {', '.join(missing)}")


def _extra(frame: pd.DataFrame, used: set[str]) -> list[dict]:
    rest = frame[[c for c in frame.columns if c not in used]]
    if rest.shape[1] == 0:
        return [{} for _ in range(len(frame))]
    cleaned = rest.astype(object).where(rest.notna(), None)
    return cleaned.to_dict("records")


def _valid_tces(tces: pd.DataFrame, table: str) -> tuple[pd.DataFrame, list[str]]:
    checks = {
        "identifier is not a positive number": ~(tces["identifier"] > 0),
        "planet number missing": tces["tce_number"].isna() | (tces["tce_number"] < 0),
        "period missing or not positive": ~(tces["period_days"] > 0),
        "epoch missing": tces["epoch"].isna(),
        "duration missing or not positive": ~(tces["duration_hours"] > 0),
    }
    bad = pd.Series(False, index=tces.index)
    rejected: list[str] = []
    for reason, mask in checks.items():
        new = mask & ~bad
        if new.any():
            rejected.append(f"{table}: {int(new.sum())} row(s) rejected: {reason}")
        bad |= mask
    good = tces[~bad].copy()
    good["identifier"] = good["identifier"].astype(np.int64)
    good["tce_number"] = good["tce_number"].astype(np.int64)
    return good, rejected


def _tce_frame(
    frame: pd.DataFrame, columns: dict[str, pd.Series], disposition: pd.Series, table: str
):
    tces = pd.DataFrame(columns, index=frame.index)
    tces["disposition"] = disposition.fillna("UNK").astype(str).str.strip().replace("", "UNK")
    used = set(frame.columns) & set(_SOURCE_COLUMNS)
    tces["extra"] = _extra(frame, used)
    return _valid_tces(tces, table)


_SOURCE_COLUMNS = {
    "kepid", "target_id", "tce_plnt_num", "tce_period", "tce_time0bk", "tce_duration", "tce_depth",
    "transit_depth", "tce_model_snr", "tce_max_mult_ev", "av_training_set", "tid", "toi",
    "pl_orbper", "pl_tranmid", "pl_trandurh", "pl_trandep", "tfopwg_disp", "koi_period",
    "koi_time0bk", "koi_duration", "koi_depth", "koi_model_snr", "koi_max_mult_ev",
}  # fmt: skip
"""Columns mapped onto model fields (everything else goes to ``extra``)."""


#: The stellar columns of each table: target field -> its names there (the first present is read).
DR25_TCE_STELLAR = {
    "teff": ("tce_steff",),
    "logg": ("tce_slogg",),
    "metallicity": ("tce_smet",),
    "radius": ("tce_sradius",),
    "mass": ("tce_smass",),
    "magnitude": ("mag", "kepmag"),
    "ra": ("ra",),
    "dec": ("dec",),
}
KEPLER_STELLAR = {
    "teff": ("teff",),
    "logg": ("logg",),
    "metallicity": ("feh",),
    "radius": ("radius",),
    "mass": ("mass",),
    "magnitude": ("kepmag",),
    "ra": ("ra",),
    "dec": ("dec",),
}
TOI_STELLAR = {
    "teff": ("st_teff",),
    "logg": ("st_logg",),
    "radius": ("st_rad",),
    "magnitude": ("st_tmag",),
    "ra": ("ra",),
    "dec": ("dec",),
}


def _stellar(frame: pd.DataFrame, names: dict[str, tuple[str, ...]]) -> dict[str, pd.Series]:
    """Each target field of a table from the first of its column names there (NaN when none is)."""
    return {field: _first(frame, *columns) for field, columns in names.items()}


def _targets(identifiers: pd.Series, **columns: pd.Series) -> pd.DataFrame:
    targets = pd.DataFrame({"identifier": pd.to_numeric(identifiers, errors="coerce"), **columns})
    targets = targets[targets["identifier"] > 0].copy()
    targets["identifier"] = targets["identifier"].astype(np.int64)
    return targets.drop_duplicates("identifier", keep="first")


def normalize_dr24_tce(frame: pd.DataFrame) -> CatalogRows:
    """Kepler Q1-Q17 DR24 TCEs (``q1_q17_dr24_tce``); disposition = autovetter training label."""
    _require(
        frame,
        "DR24 TCE",
        ("kepid",),
        ("tce_plnt_num",),
        ("tce_period",),
        ("tce_time0bk",),
        ("tce_duration",),
    )
    columns = _kepler_tce_columns(frame)
    tces, rejected = _tce_frame(
        frame, columns, frame.get("av_training_set", pd.Series(index=frame.index)), "DR24"
    )
    return CatalogRows(targets=_targets(frame["kepid"]), tces=tces, rejected=rejected)


def _kepler_tce_columns(frame: pd.DataFrame) -> dict[str, pd.Series]:
    return {
        "identifier": _first(frame, "kepid", "target_id"),
        "tce_number": _first(frame, "tce_plnt_num"),
        "period_days": _first(frame, "tce_period"),
        "epoch": _first(frame, "tce_time0bk"),
        "duration_hours": _first(frame, "tce_duration"),
        "depth_ppm": _first(frame, "tce_depth", "transit_depth"),
        "snr": _first(frame, "tce_model_snr").where(lambda s: s > 0),
        "mes": _first(frame, "tce_max_mult_ev").where(lambda s: s > 0),
    }


def normalize_dr25_tce(frame: pd.DataFrame, robovetter: pd.DataFrame | None = None) -> CatalogRows:
    """Kepler Q1-Q17 DR25 TCEs: the Archive table or the ExoMiner fold table (``target_id``).

    Dispositions (PC/FP) come from the robovetter output when given; TCEs it does not list keep
    UNK. ExoMiner's own label (PC/AFP/NTP), when present, stays in ``extra["label"]``. The
    ExoMiner table's DR25 stellar columns (``tce_steff``, ...) become target parameters.
    Non-positive model SNR / MES (the fold table fills missing values with -1) become NaN.
    """
    _require(
        frame,
        "DR25 TCE",
        ("kepid", "target_id"),
        ("tce_plnt_num",),
        ("tce_period",),
        ("tce_time0bk",),
        ("tce_duration",),
    )
    if "tce_rogue_flag" in frame.columns:
        frame = frame[pd.to_numeric(frame["tce_rogue_flag"], errors="coerce").fillna(0) == 0]
    columns = _kepler_tce_columns(frame)
    disposition = pd.Series(np.nan, index=frame.index, dtype=object)
    if robovetter is not None:
        key = (
            columns["identifier"].astype("Int64").astype(str)
            + "-"
            + columns["tce_number"].astype("Int64").astype(str)
        )
        robo_key = (
            robovetter["kepid"].astype("Int64").astype(str)
            + "-"
            + robovetter["tce_plnt_num"].astype("Int64").astype(str)
        )
        disposition = key.map(
            pd.Series(robovetter["disposition"].to_numpy(), index=robo_key.to_numpy())
        )
    tces, rejected = _tce_frame(frame, columns, disposition, "DR25")
    targets = _targets(columns["identifier"], **_stellar(frame, DR25_TCE_STELLAR))
    return CatalogRows(targets=targets, tces=tces, rejected=rejected)


def host_name(kepler_name: object) -> str:
    """ "Kepler-90 b" -> "Kepler-90"; empty for missing names."""
    if not isinstance(kepler_name, str) or not kepler_name.strip():
        return ""
    text = kepler_name.strip()
    match = _PLANET_LETTER.match(text)
    return match.group(1) if match else text


def koi_aliases(kepoi_name: object) -> list[str]:
    """ "K00351.01" -> ["KOI-351", "K00351"]."""
    if not isinstance(kepoi_name, str) or not kepoi_name.startswith("K"):
        return []
    star = kepoi_name.split(".")[0]
    digits = star[1:].lstrip("0") or "0"
    return [f"KOI-{digits}", star]


def normalize_koi(frame: pd.DataFrame) -> CatalogRows:
    """KOI table (cumulative or DR25 export): host names and KOI aliases; TCEs when periods exist.

    The reduced local export (kepid, kepoi_name, kepler_name, koi_disposition) gives names only;
    the Archive's ``cumulative`` table also has periods, and then each KOI becomes a TCE of source
    ``kepler_koi`` numbered by ``koi_tce_plnt_num`` (or the KOI suffix).
    """
    _require(frame, "KOI", ("kepid",), ("kepoi_name",))
    names = frame.get("kepler_name", pd.Series("", index=frame.index)).map(host_name)
    aliases = frame["kepoi_name"].map(koi_aliases)
    grouped = pd.DataFrame(
        {
            "identifier": pd.to_numeric(frame["kepid"], errors="coerce"),
            "name": names,
            "aliases": aliases,
        }
    )
    grouped = grouped[grouped["identifier"] > 0]
    targets = (
        grouped.groupby("identifier", sort=False)
        .agg(
            name=("name", lambda s: next((n for n in s if n), "")),
            aliases=("aliases", _merge_lists),
        )
        .reset_index()
    )
    targets["identifier"] = targets["identifier"].astype(np.int64)
    if "koi_period" not in frame.columns:
        return CatalogRows(targets=targets)
    suffix = pd.to_numeric(frame["kepoi_name"].str.split(".").str[1], errors="coerce")
    columns = {
        "identifier": _first(frame, "kepid"),
        "tce_number": _first(frame, "koi_tce_plnt_num").fillna(suffix),
        "period_days": _first(frame, "koi_period"),
        "epoch": _first(frame, "koi_time0bk"),
        "duration_hours": _first(frame, "koi_duration"),
        "depth_ppm": _first(frame, "koi_depth"),
        "snr": _first(frame, "koi_model_snr").where(lambda s: s > 0),
        "mes": _first(frame, "koi_max_mult_ev").where(lambda s: s > 0),
    }
    disposition = frame.get("koi_disposition", pd.Series(index=frame.index)).map(KOI_DISPOSITIONS)
    tces, rejected = _tce_frame(frame, columns, disposition, "KOI")
    return CatalogRows(targets=targets, tces=tces, rejected=rejected)


def _merge_lists(values: pd.Series) -> list[str]:
    merged: list[str] = []
    for items in values:
        merged.extend(item for item in items if item not in merged)
    return merged


def normalize_stellar(frame: pd.DataFrame) -> CatalogRows:
    """Kepler stellar properties (``q1_q17_dr25_stellar`` or ``keplerstellar``)."""
    _require(frame, "stellar", ("kepid",))
    targets = _targets(frame["kepid"], **_stellar(frame, KEPLER_STELLAR))
    return CatalogRows(targets=targets)


def normalize_toi(frame: pd.DataFrame) -> CatalogRows:
    """TESS Objects of Interest (``toi``): TIC hosts and one TCE per TOI, epochs in BTJD."""
    _require(frame, "TOI", ("tid",), ("toi",), ("pl_orbper",), ("pl_tranmid",), ("pl_trandurh",))
    toi = pd.to_numeric(frame["toi"], errors="coerce")
    columns = {
        "identifier": _first(frame, "tid"),
        "tce_number": (toi.round(2) * 100).round() % 100,
        "period_days": _first(frame, "pl_orbper"),
        "epoch": _first(frame, "pl_tranmid") - BTJD_OFFSET,
        "duration_hours": _first(frame, "pl_trandurh"),
        "depth_ppm": _first(frame, "pl_trandep"),
        "snr": _first(frame, "pl_snr"),
        "mes": pd.Series(np.nan, index=frame.index),
    }
    tces, rejected = _tce_frame(
        frame, columns, frame.get("tfopwg_disp", pd.Series(index=frame.index)), "TOI"
    )
    names = toi.map(lambda t: f"TOI-{int(t)}" if np.isfinite(t) else "")
    targets = _targets(
        frame["tid"],
        name=names,
        aliases=names.map(lambda n: [n] if n else []),
        **_stellar(frame, TOI_STELLAR),
    )
    return CatalogRows(targets=targets, tces=tces, rejected=rejected)
