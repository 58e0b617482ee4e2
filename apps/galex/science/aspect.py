"""Aspect solution: gPhoton 2's Parquet tables, legs, gnomonic projection, per-photon sky.

Tables (gPhoton 2 schemas, one folder, rows of many eclipses filtered by ``eclipse``):

* ``aspect.parquet``: eclipse, time (GALEX s, 1-s cadence), ra, dec, roll (deg), flags (odd = bad fix)
* ``boresight.parquet``: one row per observed leg: eclipse, leg, time (leg start), duration,
  ra0, dec0 (+ ra/dec ranges, planned position, exposure areas)
* ``metadata.parquet``: one row per eclipse: eclipse, plan_type, planned_legs, observed_legs,
  fuv_tdc_temp, nuv_tdc_temp, ...

Per photon (gPhoton 2 ``apply_aspect_solution``): ``i`` = index of the last aspect record
at or before ``t``; flag 7 unless ``0 < i < len-1`` and the photon's flag is 0 or 6; the
pointing offset (xi, eta of the aspect about the leg boresight) is interpolated over the
second, added to the detector position, and projected back about the aspect record with
roll ``-roll[i]``. Flag 12 unless the bracketing records are 1 s apart, records i-1, i, i+1
have even flags, and the photon's flag is 0. ra/dec are NaN for flags 7 and 12.
"""

from __future__ import annotations

import gzip
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from numba import njit

from .errors import AspectError
from .scst import scst_tables

R2D = 180.0 / np.pi
ASPECT_COLUMNS = ("eclipse", "time", "ra", "dec", "roll", "flags")
BORESIGHT_COLUMNS = ("eclipse", "time", "ra0", "dec0")


# --------------------------------------------------------------------------------------
# Gnomonic (TAN) projection in gPhoton's convention (xi grows toward smaller ra)
# --------------------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def _gnomfwd_one(ra, dec, ra0, dec0, crota, cdelt):
    cosdec0, sindec0 = np.cos(dec0 / R2D), np.sin(dec0 / R2D)
    drar = (ra0 - ra) / R2D
    cosd, sind = np.cos(dec / R2D), np.sin(dec / R2D)
    a = cosd * np.cos(drar)
    f = 1.0 / (sindec0 * sind + a * cosdec0)
    xp = f * cosd * np.sin(drar)
    yp = f * (cosdec0 * sind - a * sindec0)
    c, s = np.cos(-crota / R2D), np.sin(-crota / R2D)
    return (xp * c + yp * s) * R2D / cdelt, (-xp * s + yp * c) * R2D / cdelt


@njit(inline="always")
def _rotate_to_polar(x, y, c, s):
    # Tangent-plane (x, y) in radians rotated by the roll (c, s = its cos, sin): the rotated
    # (xp, yp), the distance r from the tangent point and cos/sin of its angle on the sky.
    xp = x * c + y * s
    yp = -x * s + y * c
    rsq = xp * xp + yp * yp
    r = np.sqrt(rsq)
    cosdelta = 1.0 / np.sqrt(rsq + 1.0) if rsq > 1e-16 else 1.0
    sindelta = np.sqrt(1.0 - cosdelta * cosdelta)
    return xp, yp, r, cosdelta, sindelta


@njit(cache=True, nogil=True)
def _gnomrev_one(xi, eta, ra0, dec0, crota, cdelt):
    x = xi * cdelt / R2D
    y = eta * cdelt / R2D
    xp, yp, r, cosdelta, sindelta = _rotate_to_polar(x, y, np.cos(crota / R2D), np.sin(crota / R2D))
    cosbeta, sinbeta = (-yp / r, -xp / r) if r > 0 else (1.0, 0.0)
    cosdec0, sindec0 = np.cos(dec0 / R2D), np.sin(dec0 / R2D)
    xx = sindec0 * sindelta * cosbeta + cosdec0 * cosdelta
    yy = sindelta * sinbeta
    dec = np.arcsin(sindec0 * cosdelta - cosdec0 * sindelta * cosbeta) * R2D
    ra = ra0 + np.arctan2(yy, xx) * R2D
    if ra >= 360.0:
        ra -= 360.0
    if ra < 0.0:
        ra += 360.0
    return ra, dec


@njit(cache=True, nogil=True)
def _gnomonic_kernel(a, b, frame, cdelt, reverse):
    # frame rows: ra0, dec0, crota of each event. Forward maps (ra, dec) to (xi, eta);
    # reverse maps (xi, eta) back to (ra, dec).
    n = a.shape[0]
    out_a = np.empty(n)
    out_b = np.empty(n)
    for i in range(n):
        ra0, dec0, crota = frame[0, i], frame[1, i], frame[2, i]
        if reverse:
            out_a[i], out_b[i] = _gnomrev_one(a[i], b[i], ra0, dec0, crota, cdelt)
        else:
            out_a[i], out_b[i] = _gnomfwd_one(a[i], b[i], ra0, dec0, crota, cdelt)
    return out_a, out_b


def _events_and_frame(a, b, ra0, dec0, crota) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Event coordinates as contiguous float64, and the pointing broadcast to shape (3, n)."""
    a = np.ascontiguousarray(a, np.float64)
    b, *frame = _broadcast(len(a), b, ra0, dec0, crota)
    return a, b, np.stack(frame)


def _broadcast(n: int, *values) -> list[np.ndarray]:
    return [np.ascontiguousarray(np.broadcast_to(np.asarray(v, np.float64), (n,))) for v in values]


def angular_separation_deg(ra1, dec1, ra2, dec2):
    """Great-circle distance (deg) between (ra1, dec1) and (ra2, dec2), all deg (haversine)."""
    ra1, dec1, ra2, dec2 = (np.radians(np.asarray(v, np.float64)) for v in (ra1, dec1, ra2, dec2))
    h = np.sin((dec2 - dec1) / 2) ** 2 + np.cos(dec1) * np.cos(dec2) * np.sin((ra2 - ra1) / 2) ** 2
    out = np.degrees(2 * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0))))
    return float(out) if out.ndim == 0 else out


def gnomonic_forward(ra, dec, ra0, dec0, crota, cdelt: float = 1 / 36000.0):
    """Project sky positions to the tangent plane about (ra0, dec0), rotated by crota.

    Parameters
    ----------
    ra, dec : float arrays, shape (n,), degrees.
    ra0, dec0, crota : float or arrays broadcastable to (n,), degrees.
    cdelt : float
        Degrees per output unit; gPhoton uses 1/36000 (0.1 arcsec).

    Returns
    -------
    xi, eta : float64 arrays, shape (n,), in units of ``cdelt``.
    """
    ra, dec, frame = _events_and_frame(ra, dec, ra0, dec0, crota)
    return _gnomonic_kernel(ra, dec, frame, float(cdelt), False)


def gnomonic_reverse(xi, eta, ra0, dec0, crota, cdelt: float = 1 / 36000.0):
    """Inverse of :func:`gnomonic_forward`: tangent-plane (xi, eta) back to (ra, dec) degrees."""
    xi, eta, frame = _events_and_frame(xi, eta, ra0, dec0, crota)
    return _gnomonic_kernel(xi, eta, frame, float(cdelt), True)


def gnomonic_forward_reference(ra, dec, ra0, dec0, crota, cdelt=1 / 36000.0):
    """gPhoton 2 ``gnomfwd_simple`` in plain numpy (cenpix = 0)."""
    cosdec0, sindec0 = np.cos(np.radians(dec0)), np.sin(np.radians(dec0))
    drar = np.radians(np.asarray(ra0) - ra)
    cosd, sind = np.cos(np.radians(dec)), np.sin(np.radians(dec))
    a = cosd * np.cos(drar)
    f = 1.0 / (sindec0 * sind + a * cosdec0)
    xp, yp = f * cosd * np.sin(drar), f * (cosdec0 * sind - a * sindec0)
    c, s = np.cos(-np.radians(crota)), np.sin(-np.radians(crota))
    return (xp * c + yp * s) * R2D / cdelt, (-xp * s + yp * c) * R2D / cdelt


def gnomonic_reverse_reference(xi, eta, ra0, dec0, crota, cdelt=1 / 36000.0):
    """gPhoton 2 ``gnomrev_simple`` in plain numpy (cenpix = 0)."""
    x, y = np.asarray(xi) * cdelt / R2D, np.asarray(eta) * cdelt / R2D
    c, s = np.cos(np.radians(crota)), np.sin(np.radians(crota))
    xp, yp = x * c + y * s, -x * s + y * c
    rsq = xp * xp + yp * yp
    r = np.sqrt(rsq)
    cosdelta = np.where(rsq > 1e-16, 1.0 / np.sqrt(rsq + 1), 1.0)
    sindelta = np.sqrt(1.0 - cosdelta**2)
    with np.errstate(invalid="ignore", divide="ignore"):
        cosbeta = np.where(r > 0, -yp / r, 1.0)
        sinbeta = np.where(r > 0, -xp / r, 0.0)
    cosdec0, sindec0 = np.cos(np.radians(dec0)), np.sin(np.radians(dec0))
    xx = sindec0 * sindelta * cosbeta + cosdec0 * cosdelta
    yy = sindelta * sinbeta
    dec = np.degrees(np.arcsin(sindec0 * cosdelta - cosdec0 * sindelta * cosbeta))
    ra = np.mod(ra0 + np.degrees(np.arctan2(yy, xx)), 360.0)
    return ra, dec


# --------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Leg:
    """One boresight leg: aspect rows ``[first, last]`` (inclusive) and its pointing."""

    index: int
    t_start: float  # first aspect time of the leg (s)
    t_stop: float  # last aspect time of the leg (s)
    ra0: float
    dec0: float
    first: int  # aspect row indices
    last: int


@dataclass
class AspectSolution:
    """1-s aspect records of one eclipse with their leg pointing, shape (m,) each."""

    eclipse: int
    time: np.ndarray
    ra: np.ndarray
    dec: np.ndarray
    roll: np.ndarray
    flags: np.ndarray
    xi: np.ndarray  # pointing offset about the leg boresight, 0.1 arcsec
    eta: np.ndarray
    leg: np.ndarray
    legs: list[Leg]
    metadata: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    source: str = ""


def _table_paths(path: Path) -> tuple[Path, Path, Path]:
    folder = path if path.is_dir() else path.parent
    aspect = path if path.is_file() else folder / "aspect.parquet"
    return aspect, folder / "boresight.parquet", folder / "metadata.parquet"


def _read_rows(path: Path, eclipse: int, required: tuple[str, ...], what: str) -> pd.DataFrame:
    if not path.is_file():
        raise AspectError(f"{what} table {path} does not exist")
    try:
        schema = pq.read_schema(path)
    except (OSError, pa.ArrowException) as exc:
        raise AspectError(f"{what} table {path} is not a readable Parquet file: {exc}") from exc
    missing = [c for c in required if c not in schema.names]
    if missing:
        raise AspectError(f"{what} table {path} lacks column(s) {', '.join(missing)}")
    table = pq.read_table(path, filters=[("eclipse", "=", int(eclipse))])
    return table.to_pandas()


#: Schema-metadata keys of a one-file eclipse aspect (:func:`write_eclipse_aspect`).
EMBEDDED_BORESIGHT, EMBEDDED_METADATA = b"gaia.boresight", b"gaia.metadata"


def _embedded(path: Path) -> dict[bytes, bytes] | None:
    """The schema metadata of a one-file eclipse aspect, None for any other file."""
    try:
        meta = pq.read_schema(path).metadata or {}
    except (OSError, pa.ArrowException):
        return None
    return meta if EMBEDDED_BORESIGHT in meta else None


def is_fits(path: Path) -> bool:
    """Whether ``path`` is a (possibly gzip-compressed) FITS file, by its first bytes."""
    with open(path, "rb") as handle:
        head = handle.read(6)
    if head[:2] == b"\x1f\x8b":
        with gzip.open(path, "rb") as inner:
            head = inner.read(6)
    return head == b"SIMPLE"


def load_aspect_tables(
    path: str | os.PathLike, eclipse: int
) -> tuple[pd.DataFrame, pd.DataFrame, dict, list[str], str]:
    """Aspect rows, boresight rows and metadata of one eclipse, from any supported source.

    ``path`` is a folder of gPhoton 2 tables (``aspect.parquet``, ``boresight.parquet``,
    ``metadata.parquet``: rows of many eclipses, filtered by ``eclipse``), one of those
    ``aspect.parquet`` files, a one-file eclipse aspect (:func:`write_eclipse_aspect`) or a
    MAST spacecraft-state file (``*-scst.fits.gz``, see :mod:`.scst`).

    Returns
    -------
    aspect, boresight : DataFrames sorted by time; metadata : dict; warnings; source path.
    """
    path = Path(path)
    if not path.exists():
        raise AspectError(f"aspect {path} does not exist")
    aspect_path, boresight_path, _ = _table_paths(path)
    asp, bore, metadata = _read_aspect_source(path, eclipse)
    if asp.empty:
        raise AspectError(f"aspect table {aspect_path} has no rows for eclipse {eclipse}")
    if bore.empty:
        raise AspectError(f"boresight table {boresight_path} has no rows for eclipse {eclipse}")
    warnings: list[str] = []
    planned, observed = metadata.get("planned_legs"), metadata.get("observed_legs")
    if planned is not None and observed is not None and planned != observed:
        warnings.append(f"eclipse {eclipse}: observed legs ({observed}) != planned legs ({planned})")
    asp = asp.sort_values("time", kind="stable").reset_index(drop=True)
    bore = bore.sort_values("time", kind="stable").reset_index(drop=True)
    return asp, bore, metadata, warnings, str(aspect_path)


def _read_aspect_source(path: Path, eclipse: int) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Aspect rows, boresight rows and metadata of one eclipse from any source
    :func:`load_aspect_tables` reads (unsorted, possibly empty)."""
    if path.is_file() and is_fits(path):
        return scst_tables(path, eclipse)
    if path.is_file() and (embedded := _embedded(path)) is not None:
        asp = _read_rows(path, eclipse, ASPECT_COLUMNS, "aspect")
        bore = pd.DataFrame(json.loads(embedded[EMBEDDED_BORESIGHT]))
        bore = bore[bore["eclipse"] == int(eclipse)] if "eclipse" in bore else bore.iloc[0:0]
        return asp, bore, json.loads(embedded.get(EMBEDDED_METADATA, b"{}"))
    aspect_path, boresight_path, meta_path = _table_paths(path)
    asp = _read_rows(aspect_path, eclipse, ASPECT_COLUMNS, "aspect")
    bore = _read_rows(boresight_path, eclipse, BORESIGHT_COLUMNS, "boresight")
    metadata: dict = {}
    if meta_path.is_file():
        meta = _read_rows(meta_path, eclipse, ("eclipse",), "metadata")
        if not meta.empty:
            metadata = {k: (v.item() if hasattr(v, "item") else v) for k, v in meta.iloc[0].items()}
    return asp, bore, metadata


def read_aspect(path: str | os.PathLike, eclipse: int) -> AspectSolution:
    """Load aspect + boresight (+ metadata when present) for one eclipse and split legs.

    Parameters
    ----------
    path : path-like
        Any source :func:`load_aspect_tables` reads.
    eclipse : int

    Raises
    ------
    AspectError
        Missing file or column, no aspect rows for the eclipse, no boresight row, or no
        aspect row inside any leg.
    """
    asp, bore, metadata, warnings, source = load_aspect_tables(path, eclipse)
    return build_aspect_solution(asp, bore, eclipse, metadata, warnings, source)


def write_eclipse_aspect(
    path: str | os.PathLike, asp: pd.DataFrame, bore: pd.DataFrame, metadata: dict
) -> Path:
    """One eclipse's aspect in one Parquet file: the aspect rows (gPhoton 2 ``aspect.parquet``
    columns), with its boresight rows and metadata as JSON in the schema metadata.

    What ``galex_register`` stores, so an eclipse's aspect is one versioned artifact.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = [c for c in asp.columns if c not in ("ra0", "dec0", "leg")]
    table = pa.Table.from_pandas(asp[columns], preserve_index=False)
    clean = {k: (v.item() if hasattr(v, "item") else v) for k, v in metadata.items()}
    table = table.replace_schema_metadata({
        **(table.schema.metadata or {}),
        EMBEDDED_BORESIGHT: bore.to_json(orient="records").encode(),
        EMBEDDED_METADATA: json.dumps(clean, default=str).encode(),
    })  # fmt: skip
    tmp = path.with_name(f".{path.name}.partial")
    pq.write_table(table, tmp)
    os.replace(tmp, path)
    return path


def build_aspect_solution(asp: pd.DataFrame, bore: pd.DataFrame, eclipse: int, metadata: dict,
                          warnings: list[str], source: str = "") -> AspectSolution:  # fmt: skip
    """Assign aspect rows to legs (gPhoton 2 ``distribute_legs``) and project the pointing."""
    time = asp["time"].to_numpy(np.float64)
    leg = np.full(len(time), -1, np.int64)
    for k in range(len(bore)):
        sel = time >= bore["time"].iloc[k]
        if k < len(bore) - 1:
            sel &= time < bore["time"].iloc[k + 1]
        leg[sel] = k
    keep = leg >= 0
    if not keep.any():
        raise AspectError(f"eclipse {eclipse}: no aspect row falls inside any boresight leg")
    time, leg = time[keep], leg[keep]
    ra, dec, roll = (asp[c].to_numpy(np.float64)[keep] for c in ("ra", "dec", "roll"))
    flags = asp["flags"].to_numpy(np.int64)[keep]
    ra0 = bore["ra0"].to_numpy(np.float64)[leg]
    dec0 = bore["dec0"].to_numpy(np.float64)[leg]
    xi, eta = gnomonic_forward(ra, dec, ra0, dec0, -roll)
    legs = []
    for k in np.unique(leg):
        rows = np.nonzero(leg == k)[0]
        legs.append(Leg(int(k), float(time[rows[0]]), float(time[rows[-1]]),
                        float(bore["ra0"].iloc[k]), float(bore["dec0"].iloc[k]),
                        int(rows[0]), int(rows[-1])))  # fmt: skip
    return AspectSolution(
        eclipse, time, ra, dec, roll, flags, xi, eta, leg, legs, metadata, warnings, source
    )


def write_aspect_tables(
    folder: str | os.PathLike,
    *,
    eclipse: int,
    time: np.ndarray,
    ra: np.ndarray,
    dec: np.ndarray,
    roll: np.ndarray,
    flags: np.ndarray,
    legs: list[dict],
    metadata: dict,
) -> dict[str, Path]:
    """Write aspect, boresight and metadata tables in gPhoton 2's schemas.

    ``legs`` holds one dict per leg with ``time``, ``duration``, ``ra0``, ``dec0`` (the
    other boresight columns are derived from the aspect rows of the leg).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    aspect = pa.table({
        "eclipse": pa.array(np.full(len(time), eclipse, np.int32)), "time": time, "ra": ra,
        "dec": dec, "roll": roll, "flags": pa.array(np.asarray(flags, np.int32)),
    })  # fmt: skip
    rows = _boresight_rows(eclipse, time, ra, dec, legs)
    paths = {
        "aspect": folder / "aspect.parquet",
        "boresight": folder / "boresight.parquet",
        "metadata": folder / "metadata.parquet",
    }
    tables = {
        "aspect": aspect,
        "boresight": pa.Table.from_pylist(rows),
        "metadata": pa.Table.from_pylist([{"eclipse": eclipse, **metadata}]),
    }
    for name, table in tables.items():
        tmp = paths[name].with_name(f".{paths[name].name}.partial")
        pq.write_table(table, tmp)
        os.replace(tmp, paths[name])
    return paths


def _boresight_rows(eclipse: int, time: np.ndarray, ra: np.ndarray, dec: np.ndarray,
                    legs: list[dict]) -> list[dict]:  # fmt: skip
    """gPhoton 2 boresight rows of the legs, their ra/dec ranges from the legs' aspect rows."""
    rows = []
    for k, leg in enumerate(legs):
        sel = (time >= leg["time"]) & (time < leg["time"] + leg["duration"])
        rows.append({
            "eclipse": eclipse, "leg": k + 1, "time": float(leg["time"]),
            "duration": float(leg["duration"]), "ra_min": float(ra[sel].min()),
            "ra0": float(leg["ra0"]), "ra_max": float(ra[sel].max()),
            "dec_min": float(dec[sel].min()), "dec0": float(leg["dec0"]),
            "dec_max": float(dec[sel].max()), "planned_ra": float(leg["ra0"]),
            "planned_dec": float(leg["dec0"]),
        })  # fmt: skip
    return rows


# --------------------------------------------------------------------------------------
# Per-photon aspect correction
# --------------------------------------------------------------------------------------
# The per-photon step runs in blocks of _BLOCK photons through three loops: a sequential
# one that finds each photon's aspect record and interpolates its pointing (branchy, cheap),
# a branch-free one with the projection's divisions and square roots (vectorised), and one
# calling arcsin/arctan2, only for good photons. Same arithmetic, in the same order, as
# one loop doing everything per photon, and about a quarter faster.
_BLOCK = 1024
_XI, _ETA, _RA0, _COSD, _SIND, _COSR, _SINR, _GOOD, _ARG, _YY, _XX = range(11)


@njit(cache=True, nogil=True)
def _aspect_locate(S, t, xi, eta, flags, out, start, m, k, atime, ara, axi, aeta, aflags,
                   cosd, sind, cosr, sinr):  # fmt: skip
    # Final flags of the block into out; pointing of good photons into S. Returns the
    # aspect index of the last photon (photons are nearly always time-sorted: walk the
    # index, search only when needed).
    n_rec = atime.shape[0]
    for j in range(m):
        i = start + j
        if not (0 <= k < n_rec and atime[k] <= t[i] and (k + 1 >= n_rec or t[i] < atime[k + 1])):
            k = np.searchsorted(atime, t[i], side="right") - 1
        S[_GOOD, j] = 0.0
        S[_XI, j], S[_ETA, j], S[_RA0, j] = 0.0, 0.0, 0.0
        S[_COSD, j], S[_SIND, j], S[_COSR, j], S[_SINR, j] = 1.0, 0.0, 1.0, 0.0
        if not (k > 0 and k < n_rec - 1 and (flags[i] == 0 or flags[i] == 6)):
            out[i] = 7
            continue
        dt = atime[k + 1] - atime[k]
        good = (dt == 1.0 and aflags[k] % 2 == 0 and aflags[k + 1] % 2 == 0
                and aflags[k - 1] % 2 == 0 and flags[i] == 0)  # fmt: skip
        if not good:
            out[i] = 12
            continue
        out[i] = flags[i]
        frac = (t[i] - atime[k]) / dt
        S[_GOOD, j] = 1.0
        S[_XI, j] = xi[i] + (axi[k + 1] - axi[k]) * frac
        S[_ETA, j] = eta[i] + (aeta[k + 1] - aeta[k]) * frac
        S[_RA0, j], S[_COSD, j], S[_SIND, j] = ara[k], cosd[k], sind[k]
        S[_COSR, j], S[_SINR, j] = cosr[k], sinr[k]
    return k


@njit(cache=True, nogil=True, error_model="numpy")
def _aspect_project(S, m):
    # Reverse gnomonic projection up to the arcsin/arctan2 arguments (gPhoton's gnomrevP
    # with cdelt 0.1 arcsec). error_model="numpy": a division by zero gives inf instead of
    # raising, so the loop has no branch; only r > 0 results are kept, as in the original.
    for j in range(m):
        x = S[_XI, j] * (1.0 / 36000.0) / R2D
        y = S[_ETA, j] * (1.0 / 36000.0) / R2D
        xp, yp, r, cosdelta, sindelta = _rotate_to_polar(x, y, S[_COSR, j], S[_SINR, j])
        cosbeta = -yp / r if r > 0 else 1.0
        sinbeta = -xp / r if r > 0 else 0.0
        cosdec0, sindec0 = S[_COSD, j], S[_SIND, j]
        S[_XX, j] = sindec0 * sindelta * cosbeta + cosdec0 * cosdelta
        S[_YY, j] = sindelta * sinbeta
        S[_ARG, j] = sindec0 * cosdelta - cosdec0 * sindelta * cosbeta


@njit(cache=True, nogil=True)
def _aspect_sky(S, ra, dec, start, m):
    for j in range(m):
        i = start + j
        if S[_GOOD, j] == 0.0:
            ra[i] = np.nan
            dec[i] = np.nan
            continue
        dec[i] = np.arcsin(S[_ARG, j]) * R2D
        r = S[_RA0, j] + np.arctan2(S[_YY, j], S[_XX, j]) * R2D
        if r >= 360.0:
            r -= 360.0
        if r < 0.0:
            r += 360.0
        ra[i] = r


@njit(cache=True, nogil=True)
def _aspect_kernel(t, xi, eta, flags, atime, ara, adec, aroll, axi, aeta, aflags):
    n = t.shape[0]
    ra = np.empty(n)
    dec = np.empty(n)
    out = np.empty(n, np.uint8)
    cosd, sind = np.cos(adec / R2D), np.sin(adec / R2D)
    cosr, sinr = np.cos(-aroll / R2D), np.sin(-aroll / R2D)
    S = np.empty((11, _BLOCK))
    k = 0
    for start in range(0, n, _BLOCK):
        m = min(_BLOCK, n - start)
        k = _aspect_locate(S, t, xi, eta, flags, out, start, m, k, atime, ara, axi, aeta,
                           aflags, cosd, sind, cosr, sinr)  # fmt: skip
        _aspect_project(S, m)
        _aspect_sky(S, ra, dec, start, m)
    return ra, dec, out


def apply_aspect_reference(t, xi, eta, flags, asp: AspectSolution):
    """gPhoton 2 ``apply_aspect_solution`` + ``find_null_indices`` in numpy."""
    flags = flags.copy()
    k = np.digitize(t, asp.time) - 1
    cut = (k > 0) & (k < len(asp.time) - 1) & ((flags == 0) | (flags == 6))
    flags[~cut] = 7
    ok = np.nonzero(cut)[0]
    kk = k[ok]
    frac = (t[ok] - asp.time[kk]) / (asp.time[kk + 1] - asp.time[kk])
    ra, dec = np.full(len(t), np.nan), np.full(len(t), np.nan)
    ra[ok], dec[ok] = gnomonic_reverse_reference(
        xi[ok] + (asp.xi[kk + 1] - asp.xi[kk]) * frac, eta[ok] + (asp.eta[kk + 1] - asp.eta[kk]) * frac,
        asp.ra[kk], asp.dec[kk], -asp.roll[kk],
    )  # fmt: skip
    good = ((asp.time[kk + 1] - asp.time[kk]) == 1) & (asp.flags[kk] % 2 == 0)
    good &= (asp.flags[kk + 1] % 2 == 0) & (asp.flags[kk - 1] % 2 == 0) & (flags[ok] == 0)
    flags[ok[~good]] = 12
    null = np.isin(flags, (2, 5, 7, 8, 9, 10, 11, 12))
    ra[null], dec[null] = np.nan, np.nan
    return ra, dec, flags


def apply_aspect(
    t: np.ndarray, xi: np.ndarray, eta: np.ndarray, flags: np.ndarray, asp: AspectSolution
):
    """Sky position and final flag of each photon.

    Parameters
    ----------
    t : float64, shape (n,), GALEX s (sorted or not).
    xi, eta : float64, shape (n,), detector position in 0.1 arcsec (from the detector step).
    flags : uint8, shape (n,), 0 or 6 from the on-detector chain.
    asp : the eclipse's aspect solution.

    Returns
    -------
    ra, dec : float64 (deg), NaN for flags 7 and 12; flags : uint8 in {0, 7, 12}.
    """
    return _aspect_kernel(
        t, xi, eta, flags, asp.time, asp.ra, asp.dec, asp.roll, asp.xi, asp.eta, asp.flags
    )
