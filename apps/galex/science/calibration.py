"""Detector-space calibration: cal-file loading and gPhoton 2's on-detector steps.

The steps run in gPhoton 2's order (``photonpipe/_steps.apply_on_detector_corrections``)::

    wiggle (flag 8) -> walk (flag 9) -> linearity (flag 10) -> distortion + FUV offset
    (flag 11) -> sky-plane detector coordinates col/row (flag 6)

then, after the aspect step, ``calibrate_response`` (flat, scale, hotspot mask, detrad).
Each cut is ``ok & (flags == 0)`` followed by ``flags[~cut] = N``, exactly as gPhoton 2 does,
so an event flagged earlier is re-labelled by each later step and every bad event leaves
the chain with flag 6 (the transient flags 8-11 never reach a photon list).

The walk tables and distortion cubes (>= 4 MiB each) are not shipped with this project. They
are used when present in the calibration folder under gPhoton's file names; when absent the
step is the identity and :class:`CalibrationSet` records that in ``provenance`` and
``warnings`` so every product says so.

Kernels compute in float64; gPhoton 2 keeps float32 intermediates (differences ~1e-3 arcsec).
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from astropy.io import fits
from numba import njit

from .constants import (
    ASPUM,
    DETSIZE,
    FILL_VALUE,
    PIXELS_PER_AXIS,
    POST_CSP_FLAT_TIME,
    BandConstants,
    is_post_csp,
    normalize_band,
)
from .errors import CalibrationError

_EMPTY3 = np.zeros((0, 0, 0), np.float64)
_HALF_DET = DETSIZE / 2.0
_HALF_PIX = PIXELS_PER_AXIS / 2.0


# --------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=64)
def _read_fits_cached(path: str, mtime_ns: int, hdu: int):
    with fits.open(path, memmap=False) as hdul:
        header = dict(hdul[0].header)
        data = hdul[hdu].data
        if hasattr(data, "columns"):
            arr = {
                name.lower(): np.asarray(data[name]).astype(np.float64)
                for name in data.columns.names
            }
            for value in arr.values():
                value.flags.writeable = False
            return arr, header
        arr = np.ascontiguousarray(data, dtype=np.float64)
        arr.flags.writeable = False
        return arr, header


def read_cal_file(cal_dir: str | os.PathLike, name: str, hdu: int = 0):
    """Read a calibration FITS file (cached); return (data, primary header dict).

    Image HDUs come back as read-only native float64 arrays; tables as a dict of
    lower-case column name -> float64 array (gPhoton's column names vary in case).
    """
    path = Path(cal_dir) / name
    if not path.is_file():
        raise CalibrationError(f"calibration file {name} is missing from {cal_dir}")
    try:
        return _read_fits_cached(str(path), path.stat().st_mtime_ns, hdu)
    except (OSError, IndexError, ValueError, TypeError) as exc:
        raise CalibrationError(f"calibration file {path} cannot be read: {exc}") from exc


def _has(cal_dir: Path, name: str) -> bool:
    return (cal_dir / name).is_file()


@dataclass
class CalibrationSet:
    """Everything the on-detector steps need for one band and eclipse.

    Arrays are float64: wiggle (32, 480) indexed [xa or ya, cell]; walk (32, 480, 480)
    indexed [q, y cell, x cell] or shape (0, 0, 0) when absent; linearity (480, 480)
    [y cell, x cell] in arcsec; flat and mask (800, 800) indexed [col, row]; distortion
    cubes (depth, row, col) in 1.5-arcsec units or (0, 0, 0) when absent.
    """

    band: str
    eclipse: int
    wiggle_x: np.ndarray
    wiggle_y: np.ndarray
    walk_x: np.ndarray
    walk_y: np.ndarray
    linearity_x: np.ndarray
    linearity_y: np.ndarray
    flat: np.ndarray
    mask: np.ndarray
    distortion_x: np.ndarray
    distortion_y: np.ndarray
    distortion_header: np.ndarray  # DC_X0, DC_DX, DC_Y0, DC_DY, DC_D0, DC_DD
    provenance: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    _compact: dict | None = field(default=None, init=False, repr=False, compare=False)

    def compact_tables(self) -> dict[str, np.ndarray]:
        """The lookup tables in their smallest exact form, for the fused chain kernel.

        gPhoton's tables are float32 on disk: a float32 copy holds the same numbers in half
        the cache, and the kernels widen every lookup back to float64, so the results do not
        change. A table that float32 cannot hold exactly stays float64. The mask becomes
        uint8 (1 where the mask is non-zero). Computed once per calibration set.
        """
        if self._compact is None:
            names = ("wiggle_x", "wiggle_y", "walk_x", "walk_y", "linearity_x", "linearity_y",
                     "flat", "distortion_x", "distortion_y")  # fmt: skip
            self._compact = {name: _smallest_exact(getattr(self, name)) for name in names}
            self._compact["mask"] = np.ascontiguousarray(self.mask != 0, dtype=np.uint8)
        return self._compact


def _smallest_exact(table: np.ndarray) -> np.ndarray:
    narrow = np.ascontiguousarray(table, dtype=np.float32)
    same = np.array_equal(narrow.astype(np.float64), table, equal_nan=True)
    return narrow if same else np.ascontiguousarray(table, dtype=np.float64)


def distortion_file_names(band: str, eclipse: int, stimsep: float) -> tuple[str, str]:
    """gPhoton 2's distortion cube names; NUV post-CSP picks a/b/c by stim separation."""
    suffix = ""
    if normalize_band(band) == "NUV" and is_post_csp(eclipse):
        suffix = "a" if stimsep < 5136.3 else ("b" if stimsep < 5137.25 else "c")
    low = normalize_band(band).lower()
    return (f"{low}_distortion_cube_dx{suffix}.fits", f"{low}_distortion_cube_dy{suffix}.fits")


def load_calibration(
    cal_dir: str | os.PathLike, band: str, eclipse: int, stimsep: float = 0.0
) -> CalibrationSet:
    """Load the calibration set of a band and eclipse from ``cal_dir``.

    Parameters
    ----------
    cal_dir : path-like
        Folder holding gPhoton 2's ``cal_data`` files.
    band : {"NUV", "FUV"}
    eclipse : int
    stimsep : float
        Stim separation (arcsec) from the post-CSP stim statistics; selects the NUV
        post-CSP distortion cube (a/b/c). gPhoton 2 passes 0 before the CSP.

    Raises
    ------
    CalibrationError
        When a file that is always required (wiggle, linearity, flat, mask) is missing.
    """
    cal = Path(cal_dir)
    if not cal.is_dir():
        raise CalibrationError(f"calibration folder {cal} does not exist")
    band = normalize_band(band)
    prov: dict[str, str] = {}
    warns: list[str] = []
    wig_x, _ = read_cal_file(cal, f"{band}_wiggle_x.fits")
    wig_y, _ = read_cal_file(cal, f"{band}_wiggle_y.fits")
    prov["wiggle"] = f"{band}_wiggle_x.fits, {band}_wiggle_y.fits"
    lin_x, _ = read_cal_file(cal, f"{band}_NLC_x_det2sky.fits")
    lin_y, _ = read_cal_file(cal, f"{band}_NLC_y_det2sky.fits")
    prov["linearity"] = f"{band}_NLC_x_det2sky.fits, {band}_NLC_y_det2sky.fits"
    flat, _ = read_cal_file(cal, f"{band}_flat.fits")
    mask, _ = read_cal_file(cal, f"{band}_mask.fits")
    prov["flat"] = f"{band}_flat.fits"
    prov["mask"] = f"{band}_mask.fits"

    walk_names = (f"{band}_walk_x.fits", f"{band}_walk_y.fits")
    if all(_has(cal, n) for n in walk_names):
        walk_x, _ = read_cal_file(cal, walk_names[0])
        walk_y, _ = read_cal_file(cal, walk_names[1])
        prov["walk"] = ", ".join(walk_names)
    else:
        walk_x = walk_y = _EMPTY3
        prov["walk"] = f"identity ({walk_names[0]}/{walk_names[1]} absent from {cal})"
        warns.append(
            f"walk correction NOT applied: {walk_names[0]} and {walk_names[1]} are absent "
            "(positions may be off by a pulse-height-dependent shift of order arcsec)"
        )

    dist_names = distortion_file_names(band, eclipse, stimsep)
    header = np.zeros(6)
    if all(_has(cal, n) for n in dist_names):
        dist_x, hdr = read_cal_file(cal, dist_names[0])
        dist_y, _ = read_cal_file(cal, dist_names[1])
        try:
            header = np.array(
                [float(hdr[k]) for k in ("DC_X0", "DC_DX", "DC_Y0", "DC_DY", "DC_D0", "DC_DD")]
            )
        except KeyError as exc:
            raise CalibrationError(
                f"distortion cube {dist_names[0]} lacks header key {exc}"
            ) from exc
        prov["distortion"] = ", ".join(dist_names)
    else:
        dist_x = dist_y = _EMPTY3
        prov["distortion"] = f"identity ({dist_names[0]}/{dist_names[1]} absent from {cal})"
        warns.append(
            f"stim-separation distortion correction NOT applied: {dist_names[0]} and "
            f"{dist_names[1]} are absent"
        )
    return CalibrationSet(
        band, eclipse, wig_x, wig_y, walk_x, walk_y, lin_x, lin_y, flat,
        mask, dist_x, dist_y, header, prov, warns,
    )  # fmt: skip


def fuv_offsets(
    cal_dir: str | os.PathLike, eclipse: int, fuv_tdc_temp: float | None
) -> tuple[float, float]:
    """FUV detector offsets (arcsec) from the temperature-dependent tables.

    gPhoton 2 ``find_fuv_offset``: ``coef0[eclipse] - coef1 * (T - 29)`` with coef1 = 0 (x)
    and 0.3597 (y); refuses a missing/NaN temperature or one outside (20, 40) C.
    """
    if fuv_tdc_temp is None or not np.isfinite(fuv_tdc_temp):
        raise CalibrationError(
            f"eclipse {eclipse}: no FUV TDC temperature in the metadata table; "
            "this is probably not a valid FUV observation"
        )
    if not 20.0 < fuv_tdc_temp < 40.0:
        raise CalibrationError(
            f"eclipse {eclipse}: FUV temperature {fuv_tdc_temp} C out of range (20, 40)"
        )
    coefs = []
    for axis in ("x", "y"):
        table = _read_tbl(str(Path(cal_dir) / f"fuv_d{axis}_fdttdc_coef_0.tbl"))
        if not 1 <= eclipse <= len(table):
            raise CalibrationError(f"eclipse {eclipse} is outside the FUV offset table")
        coefs.append(table[eclipse - 1, 1])
    return coefs[0] - 0.0 * (fuv_tdc_temp - 29.0), coefs[1] - 0.3597 * (fuv_tdc_temp - 29.0)


@functools.lru_cache(maxsize=4)
def _read_tbl(path: str) -> np.ndarray:
    if not Path(path).is_file():
        raise CalibrationError(
            f"calibration file {Path(path).name} is missing from {Path(path).parent}"
        )
    rows = [
        line.split()
        for line in Path(path).read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("|")
    ]
    return np.array(rows, dtype=np.float64)


@dataclass(frozen=True)
class PostCspTables:
    """WIG2/WLK2/CLK2 lookup arrays: wig2[yy, yb, ya, xb], wlk2[yy, yb, q], clk2[yy, yb]."""

    wig2: np.ndarray
    wlk2: np.ndarray
    clk2: np.ndarray
    starts: tuple[float, float, float]
    incs: tuple[float, float, float]


def load_post_csp_tables(cal_dir: str | os.PathLike) -> PostCspTables:
    """Fill gPhoton 2's post-CSP lookup arrays from the three Sep2010 tables."""
    wig, wig_h = read_cal_file(cal_dir, "WIG2_Sep2010.fits", hdu=1)
    wlk, wlk_h = read_cal_file(cal_dir, "WLK2_Sep2010.fits", hdu=1)
    clk, clk_h = read_cal_file(cal_dir, "CLK2_Sep2010.fits", hdu=1)
    ix = {
        k: {c: v.astype(np.int64) for c, v in t.items() if c != "ycor"}
        for k, t in (("wig", wig), ("wlk", wlk), ("clk", clk))
    }
    wig2 = np.zeros((128, 8, 32, 8))
    wig2[ix["wig"]["yy"], ix["wig"]["yb"], ix["wig"]["ya"], ix["wig"]["xb"]] = wig["ycor"]
    wlk2 = np.zeros((100, 8, 32))
    wlk2[ix["wlk"]["yy"], ix["wlk"]["yb"], ix["wlk"]["q"]] = wlk["ycor"]
    clk2 = np.zeros((100, 8))
    clk2[ix["clk"]["yy"], ix["clk"]["yb"]] = clk["ycor"]
    starts = tuple(float(h["Y_AS_0"]) for h in (wig_h, wlk_h, clk_h))
    incs = tuple(float(h["Y_AS_INC"]) for h in (wig_h, wlk_h, clk_h))
    return PostCspTables(wig2, wlk2, clk2, starts, incs)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------
# Kernels: staged over blocks of events
# --------------------------------------------------------------------------------------
# Each step is a stage function working on a block of at most _BLOCK events held in the
# rows of a float64 scratch array S (shape (_NROWS, _BLOCK); flags are kept as floats, 0.0
# for a good event). A stage is a few short loops: arithmetic loops that every event runs
# the same way (a cut only selects which result an event keeps, and a failed event looks up
# cell 1, always in range), which LLVM vectorises, and gather loops that only look tables
# up. The step kernels (each tested against its numpy reference) run one stage; the chain
# kernel runs them all on a block before moving on, so it gives bit-identical results with
# no event-sized intermediates. This is about twice as fast as one loop doing every step
# per event, where the divisions and table look-ups of an event form one long dependency
# chain that the CPU cannot overlap with the next events' (measured on AMD EPYC, 2026-11).
_BLOCK = 1024
_FX, _FY, _FD, _FLAG, _WX, _WY = 0, 1, 2, 3, 4, 5  # cell coordinates, flag, looked-up values
_XD, _YD, _XP, _YP, _DX, _DY, _XS, _YS = 6, 7, 8, 9, 10, 11, 12, 13
_XI, _ETA, _COL, _ROW, _DETRAD, _FLAT, _HOT, _SCALE, _RESP = 14, 15, 16, 17, 18, 19, 20, 21, 22
_NROWS = 23


@njit(cache=True, nogil=True)
def _load(S, row, src, start, m):
    for j in range(m):
        S[row, j] = src[start + j]


@njit(cache=True, nogil=True)
def _wiggle_stage(S, x, y, xa, ya, wig_x, wig_y, start, m):
    # x, y (microns, event arrays) -> _XD, _YD; _FLAG 0 or 8.
    for j in range(m):
        fx = x[start + j] * ASPUM / 10.0 + 240.0
        fy = y[start + j] * ASPUM / 10.0 + 240.0
        ok = (fx > 0.0) & (fx < 479.0) & (fy > 0.0) & (fy < 479.0)
        S[_FX, j] = fx if ok else 1.0
        S[_FY, j] = fy if ok else 1.0
        S[_FLAG, j] = 0.0 if ok else 8.0
    for j in range(m):
        fx, fy = S[_FX, j], S[_FY, j]
        ix, iy = int(fx), int(fy)
        bx, by = fx - ix, fy - iy
        a, b = xa[start + j], ya[start + j]
        S[_WX, j] = wig_x[a, ix] * (1 - bx) + wig_x[a, ix + 1] * bx
        S[_WY, j] = wig_y[b, iy] * (1 - by) + wig_y[b, iy + 1] * by
    for j in range(m):
        ok = S[_FLAG, j] == 0.0
        xv, yv = x[start + j], y[start + j]
        S[_XD, j] = xv + S[_WX, j] / (10.0 * ASPUM) if ok else xv
        S[_YD, j] = yv + S[_WY, j] / (10.0 * ASPUM) if ok else yv


@njit(cache=True, nogil=True)
def _bilinear(table, k, iy, ix, bx, by):
    return (
        (1 - bx) * (1 - by) * table[k, iy, ix]
        + bx * (1 - by) * table[k, iy, ix + 1]
        + (1 - bx) * by * table[k, iy + 1, ix]
        + bx * by * table[k, iy + 1, ix + 1]
    )


@njit(cache=True, nogil=True)
def _walk_stage(S, q, walk_x, walk_y, start, m):
    # _XD, _YD (microns), _FLAG -> _XP, _YP (arcsec); _FLAG 0 or 9.
    for j in range(m):
        fx = S[_XD, j] * ASPUM / 10.0 + 240.0
        fy = S[_YD, j] * ASPUM / 10.0 + 240.0
        ok = (fx > 0.0) & (fx < 479.0) & (fy > 0.0) & (fy < 479.0) & (S[_FLAG, j] == 0.0)
        S[_FX, j] = fx if ok else 1.0
        S[_FY, j] = fy if ok else 1.0
        S[_FLAG, j] = 0.0 if ok else 9.0
        S[_WX, j] = 0.0
        S[_WY, j] = 0.0
    if walk_x.shape[0] > 0:
        for j in range(m):
            fx, fy, k = S[_FX, j], S[_FY, j], q[start + j]
            ix, iy = int(fx), int(fy)
            valid = False
            for dy in range(2):
                for dx in range(2):
                    valid |= walk_x[k, iy + dy, ix + dx] != -999
                    valid |= walk_y[k, iy + dy, ix + dx] != -999
            ok = valid & (S[_FLAG, j] == 0.0)
            S[_WX, j] = _bilinear(walk_x, k, iy, ix, fx - ix, fy - iy) if ok else 0.0
            S[_WY, j] = _bilinear(walk_y, k, iy, ix, fx - ix, fy - iy) if ok else 0.0
            S[_FLAG, j] = 0.0 if ok else 9.0
    for j in range(m):
        S[_XP, j] = (S[_XD, j] - S[_WX, j]) * ASPUM
        S[_YP, j] = (S[_YD, j] - S[_WY, j]) * ASPUM


@njit(cache=True, nogil=True)
def _linearity_stage(S, lin_x, lin_y, m):
    # _XP, _YP (arcsec), _FLAG -> _DX, _DY (arcsec, 0 for failed events); _FLAG 0 or 10.
    for j in range(m):
        # 240.02: gPhoton 2 commit 8ec94e8 (2025-09) shifted the x grid origin.
        fx = S[_XP, j] / 10.0 + 240.02
        fy = S[_YP, j] / 10.0 + 240.0
        ok = (fx > 0.0) & (fx < 479.0) & (fy > 0.0) & (fy < 479.0) & (S[_FLAG, j] == 0.0)
        S[_FX, j] = fx if ok else 1.0
        S[_FY, j] = fy if ok else 1.0
        S[_FLAG, j] = 0.0 if ok else 10.0
    for j in range(m):
        fx, fy = S[_FX, j], S[_FY, j]
        ix, iy = int(fx), int(fy)
        bx, by = fx - ix, fy - iy
        w00, w01, w10, w11 = (1 - bx) * (1 - by), bx * (1 - by), (1 - bx) * by, bx * by
        dx = (
            w00 * lin_x[iy, ix]
            + w01 * lin_x[iy, ix + 1]
            + w10 * lin_x[iy + 1, ix]
            + w11 * lin_x[iy + 1, ix + 1]
        )
        dy = (
            w00 * lin_y[iy, ix]
            + w01 * lin_y[iy, ix + 1]
            + w10 * lin_y[iy + 1, ix]
            + w11 * lin_y[iy + 1, ix + 1]
        )
        ok = S[_FLAG, j] == 0.0
        S[_DX, j] = dx if ok else 0.0
        S[_DY, j] = dy if ok else 0.0  # fmt: skip


@njit(cache=True, nogil=True)
def _distortion_stage(S, t, c0, c1, cube_x, cube_y, hdr, xoffset, yoffset, start, m):
    # _XP, _YP, _FLAG, t -> _XS, _YS (arcsec, with the FUV offsets); _FLAG 0 or 11.
    # Returns how many good events index outside the cube (gPhoton 2 refuses those).
    bad = 0
    if cube_x.shape[0] == 0:
        for j in range(m):
            S[_XS, j] = 0.0 * 1.5 + xoffset
            S[_YS, j] = 0.0 * 1.5 + yoffset
            S[_FLAG, j] = 0.0 if S[_FLAG, j] == 0.0 else 11.0
        return bad
    nd, nr, nc = cube_x.shape[0], cube_x.shape[1], cube_x.shape[2]
    for j in range(m):
        col = (S[_XP, j] - hdr[0]) / hdr[1]
        row = (S[_YP, j] - hdr[2]) / hdr[3]
        depth = (c0 + t[start + j] * c1 - hdr[4]) / hdr[5]
        good = (S[_FLAG, j] == 0.0) & (col > -1) & (col < nc) & (row > -1) & (row < nr)
        good &= np.floor(depth) <= 16
        S[_FX, j] = col if good else 0.0
        S[_FY, j] = row if good else 0.0
        S[_FD, j] = depth if good else 0.0
        S[_FLAG, j] = 0.0 if good else 11.0
    for j in range(m):
        d, r, c = int(S[_FD, j]), int(S[_FY, j]), int(S[_FX, j])
        good = S[_FLAG, j] == 0.0
        take = good & (d >= 0) & (d < nd) & (r < nr) & (c < nc)
        bad += good & ~take
        d, r, c = (d if take else 0), (r if take else 0), (c if take else 0)
        sx = cube_x[d, r, c] if take else 0.0
        sy = cube_y[d, r, c] if take else 0.0
        S[_XS, j] = sx * 1.5 + xoffset
        S[_YS, j] = sy * 1.5 + yoffset
    return bad


@njit(cache=True, nogil=True)
def _detector_stage(S, flip, m):
    # _XP, _YP, _DX, _DY, _XS, _YS, _FLAG -> _XI, _ETA (0.1 arcsec), _COL, _ROW; _FLAG 0 or 6.
    for j in range(m):
        xi = flip * (S[_XP, j] + S[_DX, j] + S[_XS, j]) * 10.0
        eta = flip * (S[_YP, j] + S[_DY, j] + S[_YS, j]) * 10.0
        col = ((xi / 36000.0) / _HALF_DET * FILL_VALUE + 1.0) * _HALF_PIX
        row = ((eta / 36000.0) / _HALF_DET * FILL_VALUE + 1.0) * _HALF_PIX
        ok = (col > 0) & (col < 799) & (row > 0) & (row < 799) & (S[_FLAG, j] == 0.0)
        S[_XI, j], S[_ETA, j], S[_COL, j], S[_ROW, j] = xi, eta, col, row
        S[_FLAG, j] = 0.0 if ok else 6.0


@njit(cache=True, nogil=True)
def _response_stage(S, t, flat, mask, c0, c1, c2, csp_time, start, m):
    # _COL, _ROW, t -> _DETRAD, _HOT (1.0 on a hotspot or off the grid), _FLAT, _SCALE,
    # _RESP (NaN off the grid).
    for j in range(m):
        col, row = S[_COL, j], S[_ROW, j]
        S[_DETRAD, j] = np.sqrt((col - 400.0) ** 2 + (row - 400.0) ** 2)
        on = (col > 0) & (col < 800) & (row > 0) & (row < 800)
        S[_FX, j] = col if on else 1.0
        S[_FY, j] = row if on else 1.0
        S[_HOT, j] = 0.0 if on else 1.0
    for j in range(m):
        ic, ir = int(S[_FX, j]), int(S[_FY, j])
        S[_FLAT, j] = flat[ic, ir]
        S[_WX, j] = 1.0 if mask[ic, ir] == 0 else 0.0
    for j in range(m):
        tt = t[start + j]
        s = c0 + (c1 * tt) + (c2 * tt) * tt
        s = s * 1.018 if tt >= csp_time else s
        on = S[_HOT, j] == 0.0
        f = S[_FLAT, j]
        S[_FLAT, j] = f if on else np.nan
        S[_SCALE, j] = s if on else np.nan
        S[_RESP, j] = f * s if on else np.nan
        S[_HOT, j] = S[_WX, j] if on else 1.0


@njit(cache=True, nogil=True)
def _wiggle_kernel(x, y, xa, ya, wig_x, wig_y):
    n = x.shape[0]
    S = np.empty((_NROWS, _BLOCK))
    xdig, ydig, flags = np.empty(n), np.empty(n), np.empty(n, np.uint8)
    for start in range(0, n, _BLOCK):
        m = min(_BLOCK, n - start)
        _wiggle_stage(S, x, y, xa, ya, wig_x, wig_y, start, m)
        for j in range(m):
            xdig[start + j], ydig[start + j] = S[_XD, j], S[_YD, j]
            flags[start + j] = np.uint8(S[_FLAG, j])
    return xdig, ydig, flags


@njit(cache=True, nogil=True)
def _walk_kernel(xdig, ydig, q, flags, walk_x, walk_y):
    n = xdig.shape[0]
    S = np.empty((_NROWS, _BLOCK))
    xp, yp, out = np.empty(n), np.empty(n), np.empty(n, np.uint8)
    for start in range(0, n, _BLOCK):
        m = min(_BLOCK, n - start)
        _load(S, _XD, xdig, start, m)
        _load(S, _YD, ydig, start, m)
        _load(S, _FLAG, flags, start, m)
        _walk_stage(S, q, walk_x, walk_y, start, m)
        for j in range(m):
            xp[start + j], yp[start + j] = S[_XP, j], S[_YP, j]
            out[start + j] = np.uint8(S[_FLAG, j])
    return xp, yp, out


@njit(cache=True, nogil=True)
def _linearity_kernel(xp_as, yp_as, flags, lin_x, lin_y):
    n = xp_as.shape[0]
    S = np.empty((_NROWS, _BLOCK))
    dx, dy, out = np.empty(n), np.empty(n), np.empty(n, np.uint8)
    for start in range(0, n, _BLOCK):
        m = min(_BLOCK, n - start)
        _load(S, _XP, xp_as, start, m)
        _load(S, _YP, yp_as, start, m)
        _load(S, _FLAG, flags, start, m)
        _linearity_stage(S, lin_x, lin_y, m)
        for j in range(m):
            dx[start + j], dy[start + j] = S[_DX, j], S[_DY, j]
            out[start + j] = np.uint8(S[_FLAG, j])
    return dx, dy, out


@njit(cache=True, nogil=True)
def _distortion_kernel(xp_as, yp_as, t, flags, c0, c1, cube_x, cube_y, hdr, xoffset, yoffset):
    n = xp_as.shape[0]
    S = np.empty((_NROWS, _BLOCK))
    xs, ys, out = np.empty(n), np.empty(n), np.empty(n, np.uint8)
    bad = 0
    for start in range(0, n, _BLOCK):
        m = min(_BLOCK, n - start)
        _load(S, _XP, xp_as, start, m)
        _load(S, _YP, yp_as, start, m)
        _load(S, _FLAG, flags, start, m)
        bad += _distortion_stage(S, t, c0, c1, cube_x, cube_y, hdr, xoffset, yoffset, start, m)
        for j in range(m):
            xs[start + j], ys[start + j] = S[_XS, j], S[_YS, j]
            out[start + j] = np.uint8(S[_FLAG, j])
    return xs, ys, out, bad


@njit(cache=True, nogil=True)
def _detector_kernel(xp_as, yp_as, dx, dy, xshift, yshift, flags, flip):
    n = xp_as.shape[0]
    S = np.empty((_NROWS, _BLOCK))
    xi, eta, col, row = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    out = np.empty(n, np.uint8)
    for start in range(0, n, _BLOCK):
        m = min(_BLOCK, n - start)
        for row_index, src in ((_XP, xp_as), (_YP, yp_as), (_DX, dx), (_DY, dy), (_XS, xshift),
                               (_YS, yshift)):  # fmt: skip
            _load(S, row_index, src, start, m)
        _load(S, _FLAG, flags, start, m)
        _detector_stage(S, flip, m)
        for j in range(m):
            i = start + j
            xi[i], eta[i], col[i], row[i] = S[_XI, j], S[_ETA, j], S[_COL, j], S[_ROW, j]
            out[i] = np.uint8(S[_FLAG, j])
    return xi, eta, col, row, out


@njit(cache=True, nogil=True)
def _response_kernel(col, row, t, flat, mask, c0, c1, c2, csp_time):
    n = col.shape[0]
    S = np.empty((_NROWS, _BLOCK))
    hot, flat_out = np.empty(n, np.bool_), np.empty(n)
    scale, response, detrad = np.empty(n), np.empty(n), np.empty(n)
    for start in range(0, n, _BLOCK):
        m = min(_BLOCK, n - start)
        _load(S, _COL, col, start, m)
        _load(S, _ROW, row, start, m)
        _response_stage(S, t, flat, mask, c0, c1, c2, csp_time, start, m)
        for j in range(m):
            i = start + j
            hot[i] = S[_HOT, j] != 0.0
            flat_out[i], scale[i], response[i] = S[_FLAT, j], S[_SCALE, j], S[_RESP, j]
            detrad[i] = S[_DETRAD, j]
    return hot, flat_out, scale, response, detrad


@njit(cache=True, nogil=True)
def _chain_kernel(x, y, xa, ya, q, t, wig_x, wig_y, walk_x, walk_y, lin_x, lin_y, c0, c1,
                  cube_x, cube_y, hdr, xoffset, yoffset, flip, flat, mask, f0, f1, f2, csp_time):  # fmt: skip
    # Every stage on one block, then the next block; outputs in the photon list's types.
    n = x.shape[0]
    S = np.empty((_NROWS, _BLOCK))
    xi, eta, flags = np.empty(n), np.empty(n), np.empty(n, np.uint8)
    col32, row32 = np.empty(n, np.float32), np.empty(n, np.float32)
    detrad32, response32 = np.empty(n, np.float32), np.empty(n, np.float32)
    hot = np.empty(n, np.bool_)
    bad = 0
    for start in range(0, n, _BLOCK):
        m = min(_BLOCK, n - start)
        _wiggle_stage(S, x, y, xa, ya, wig_x, wig_y, start, m)
        _walk_stage(S, q, walk_x, walk_y, start, m)
        _linearity_stage(S, lin_x, lin_y, m)
        bad += _distortion_stage(S, t, c0, c1, cube_x, cube_y, hdr, xoffset, yoffset, start, m)
        _detector_stage(S, flip, m)
        _response_stage(S, t, flat, mask, f0, f1, f2, csp_time, start, m)
        # One loop per output: a single store stream per loop vectorises.
        for j in range(m):
            xi[start + j] = S[_XI, j]
        for j in range(m):
            eta[start + j] = S[_ETA, j]
        for j in range(m):
            flags[start + j] = np.uint8(S[_FLAG, j])
        for j in range(m):
            col32[start + j] = S[_COL, j]
        for j in range(m):
            row32[start + j] = S[_ROW, j]
        for j in range(m):
            detrad32[start + j] = S[_DETRAD, j]
        for j in range(m):
            hot[start + j] = S[_HOT, j] != 0.0
        for j in range(m):
            response32[start + j] = S[_RESP, j]
    return xi, eta, flags, col32, row32, detrad32, hot, response32, bad


# ---- slow references (gPhoton 2's vectorised numpy, float64) -------------------------
def _interp_cells(table2d, first, cell, frac):
    return table2d[first, cell] * (1 - frac) + table2d[first, cell + 1] * frac


def wiggle_reference(x, y, xa, ya, wig_x, wig_y):
    """gPhoton 2 ``apply_wiggle_correction`` + ``wiggle_and_dig`` in numpy."""
    fx, fy = x * ASPUM / 10 + 240, y * ASPUM / 10 + 240
    ok = (fx > 0) & (fx < 479) & (fy > 0) & (fy < 479)
    flags = np.where(ok, 0, 8).astype(np.uint8)
    ix, iy = fx[ok].astype(int), fy[ok].astype(int)
    wigx, wigy = np.zeros_like(x), np.zeros_like(y)
    wigx[ok] = _interp_cells(wig_x, xa[ok], ix, fx[ok] - ix)
    wigy[ok] = _interp_cells(wig_y, ya[ok], iy, fy[ok] - iy)
    return x + wigx / (10 * ASPUM), y + wigy / (10 * ASPUM), flags


def _corner_sum(table, lead, iy, ix, bx, by):
    def index(dy, dx):
        return (*lead, iy + dy, ix + dx)

    return ((1 - bx) * (1 - by) * table[index(0, 0)] + bx * (1 - by) * table[index(0, 1)]
            + (1 - bx) * by * table[index(1, 0)] + bx * by * table[index(1, 1)])  # fmt: skip


def walk_reference(xdig, ydig, q, flags, walk_x, walk_y):
    """gPhoton 2 ``post_wiggle_update_indices_and_flags`` + walk part of the NLC step."""
    flags = flags.copy()
    fx, fy = xdig * ASPUM / 10 + 240, ydig * ASPUM / 10 + 240
    cut = (fx > 0) & (fx < 479) & (fy > 0) & (fy < 479) & (flags == 0)
    flags[~cut] = 9
    wx, wy = np.zeros_like(xdig), np.zeros_like(ydig)
    if walk_x.shape[0]:
        ok = np.nonzero(cut)[0]
        ix, iy, k = fx[ok].astype(int), fy[ok].astype(int), q[ok].astype(int)
        valid = np.zeros(len(ok), bool)
        for table in (walk_x, walk_y):
            for dy in (0, 1):
                for dx in (0, 1):
                    valid |= table[k, iy + dy, ix + dx] != -999
        cut[ok] = valid
        flags[~cut] = 9
        ok = np.nonzero(cut)[0]
        ix, iy, k = fx[ok].astype(int), fy[ok].astype(int), q[ok].astype(int)
        wx[ok] = _corner_sum(walk_x, (k,), iy, ix, fx[ok] - ix, fy[ok] - iy)
        wy[ok] = _corner_sum(walk_y, (k,), iy, ix, fx[ok] - ix, fy[ok] - iy)
    return (xdig - wx) * ASPUM, (ydig - wy) * ASPUM, flags


def linearity_reference(xp_as, yp_as, flags, lin_x, lin_y):
    """gPhoton 2 ``compute_detector_orientation`` (NLC det2sky lookup) in numpy."""
    flags = flags.copy()
    fx, fy = xp_as / 10 + 240.02, yp_as / 10 + 240.0
    cut = (fx > 0) & (fx < 479) & (fy > 0) & (fy < 479) & (flags == 0)
    flags[~cut] = 10
    dx, dy = np.zeros_like(xp_as), np.zeros_like(yp_as)
    ix, iy = fx[cut].astype(int), fy[cut].astype(int)
    dx[cut] = _corner_sum(lin_x, (), iy, ix, fx[cut] - ix, fy[cut] - iy)
    dy[cut] = _corner_sum(lin_y, (), iy, ix, fx[cut] - ix, fy[cut] - iy)
    return dx, dy, flags


def distortion_reference(xp_as, yp_as, t, flags, c0, c1, cube_x, cube_y, hdr, xoffset, yoffset):
    """gPhoton 2 ``unfancy_distortion_component`` + ``apply_stim_distortion_correction``."""
    flags = flags.copy()
    xs, ys = np.zeros_like(xp_as), np.zeros_like(yp_as)
    if cube_x.shape[0]:
        col = (xp_as - hdr[0]) / hdr[1]
        row = (yp_as - hdr[2]) / hdr[3]
        depth = (c0 + t * c1 - hdr[4]) / hdr[5]
        nd, nr, nc = cube_x.shape
        cut = (
            (col > -1)
            & (col < nc)
            & (row > -1)
            & (row < nr)
            & (flags == 0)
            & (np.floor(depth) <= 16)
        )
        flags[~cut] = 11
        d, r, c = depth[cut].astype(int), row[cut].astype(int), col[cut].astype(int)
        if np.any((d < 0) | (d >= nd) | (r >= nr) | (c >= nc)):
            raise CalibrationError("bad distortion correction solution (cube index out of range)")
        xs[cut], ys[cut] = cube_x[d, r, c], cube_y[d, r, c]
    else:
        flags[flags != 0] = 11
    return xs * 1.5 + xoffset, ys * 1.5 + yoffset, flags


def detector_reference(xp_as, yp_as, dx, dy, xshift, yshift, flags, flip):
    """gPhoton 2 ``unfancy_detector_coordinates`` + ``xi_eta_to_col_row`` in numpy."""
    flags = flags.copy()
    xi = flip * (xp_as + dx + xshift) * 10
    eta = flip * (yp_as + dy + yshift) * 10
    col = ((xi / 36000) / _HALF_DET * FILL_VALUE + 1) * _HALF_PIX
    row = ((eta / 36000) / _HALF_DET * FILL_VALUE + 1) * _HALF_PIX
    flags[~((col > 0) & (col < 799) & (row > 0) & (row < 799) & (flags == 0))] = 6
    return xi, eta, col, row, flags


def response_reference(col, row, t, flat, mask, coeffs):
    """gPhoton 2 ``calibrate_photons_inline`` + ``compute_flat_scale`` in numpy."""
    n = len(col)
    on = (col > 0) & (col < 800) & (row > 0) & (row < 800)
    ic, ir = col[on].astype(int), row[on].astype(int)
    hot = np.ones(n, bool)
    hot[on] = mask[ic, ir] == 0
    flat_out, scale = np.full(n, np.nan), np.full(n, np.nan)
    flat_out[on] = flat[ic, ir]
    tt = t[on]
    s = coeffs[0] + coeffs[1] * tt + (coeffs[2] * tt) * tt
    scale[on] = np.where(tt >= POST_CSP_FLAT_TIME, s * 1.018, s)
    return hot, flat_out, scale, flat_out * scale, np.sqrt((col - 400) ** 2 + (row - 400) ** 2)


# --------------------------------------------------------------------------------------
# Public step functions
# --------------------------------------------------------------------------------------
@dataclass
class DetectorPositions:
    """Output of :func:`apply_on_detector_corrections`, all shape (n,)."""

    xi: np.ndarray  # 0.1 arcsec, detector frame
    eta: np.ndarray
    col: np.ndarray  # detector pixel (6 arcsec), 0..800
    row: np.ndarray
    flags: np.ndarray  # uint8: 0 good, 6 failed a cut


def apply_on_detector_corrections(
    x: np.ndarray,
    y: np.ndarray,
    xa: np.ndarray,
    ya: np.ndarray,
    q: np.ndarray,
    t: np.ndarray,
    cal: CalibrationSet,
    bc: BandConstants,
    stim_coefficients: tuple[float, float],
    offsets: tuple[float, float] = (0.0, 0.0),
) -> DetectorPositions:
    """Run wiggle, walk, linearity, distortion and detector-coordinate steps in order.

    Parameters
    ----------
    x, y : float64 arrays, shape (n,)
        Detector microns from :func:`raw6.center_and_scale` (post-CSP: after the yac step).
    xa, ya, q : int arrays, shape (n,)
        TAC phases and pulse height, index the wiggle and walk tables.
    t : float64 array, shape (n,)
        GALEX time (s); sets the stim separation ``C + m t`` for the distortion cube.
    cal, bc : calibration set and band constants.
    stim_coefficients : (C, m)
        Stim-separation fit (pre-CSP) or gPhoton's fixed post-CSP values.
    offsets : (xoffset, yoffset)
        FUV temperature offsets in arcsec; (0, 0) for NUV.
    """
    xdig, ydig, flags = _wiggle_kernel(x, y, xa, ya, cal.wiggle_x, cal.wiggle_y)
    xp_as, yp_as, flags = _walk_kernel(xdig, ydig, q, flags, cal.walk_x, cal.walk_y)
    dx, dy, flags = _linearity_kernel(xp_as, yp_as, flags, cal.linearity_x, cal.linearity_y)
    xs, ys, flags, bad = _distortion_kernel(
        xp_as, yp_as, t, flags, float(stim_coefficients[0]), float(stim_coefficients[1]),
        cal.distortion_x, cal.distortion_y, cal.distortion_header,
        float(offsets[0]), float(offsets[1]),
    )  # fmt: skip
    if bad:
        raise CalibrationError(
            f"bad distortion correction solution: {bad} events index outside the distortion cube"
        )
    xi, eta, col, row, flags = _detector_kernel(xp_as, yp_as, dx, dy, xs, ys, flags, bc.flip)
    return DetectorPositions(xi, eta, col, row, flags)


@dataclass
class Response:
    """Per-photon detector calibration (gPhoton 2 ``calibrate_photons_inline``), shape (n,)."""

    mask: np.ndarray  # bool: True on a hotspot, or off the 800x800 grid
    flat: np.ndarray  # NaN off the grid
    scale: np.ndarray  # flat scale at t, NaN off the grid
    response: np.ndarray  # flat * scale
    detrad: np.ndarray  # detector radius, pixels from (400, 400)


def calibrate_response(
    col: np.ndarray, row: np.ndarray, t: np.ndarray, cal: CalibrationSet, bc: BandConstants
) -> Response:
    """Flat, time-dependent flat scale, hotspot mask and detector radius per photon."""
    c0, c1, c2 = bc.flat_scale
    return Response(
        *_response_kernel(col, row, t, cal.flat, cal.mask, c0, c1, c2, POST_CSP_FLAT_TIME)
    )


@dataclass
class CalibratedPhotons:
    """Output of :func:`apply_detector_chain`, all shape (n,): what a photon list keeps."""

    xi: np.ndarray  # float64, 0.1 arcsec, detector frame (input of the aspect step)
    eta: np.ndarray
    flags: np.ndarray  # uint8: 0 good, 6 failed a cut
    col: np.ndarray  # float32 detector pixel
    row: np.ndarray
    detrad: np.ndarray  # float32, pixels from (400, 400)
    mask: np.ndarray  # bool: True on a hotspot, or off the 800x800 grid
    response: np.ndarray  # float32 flat * scale, NaN off the grid


def apply_detector_chain(
    x: np.ndarray,
    y: np.ndarray,
    xa: np.ndarray,
    ya: np.ndarray,
    q: np.ndarray,
    t: np.ndarray,
    cal: CalibrationSet,
    bc: BandConstants,
    stim_coefficients: tuple[float, float],
    offsets: tuple[float, float] = (0.0, 0.0),
) -> CalibratedPhotons:
    """:func:`apply_on_detector_corrections` then :func:`calibrate_response`, fused.

    One pass per event with no intermediate arrays; the values are bit-identical to the
    two steps (col, row, detrad and response rounded to float32 as the photon list stores
    them). Parameters as for :func:`apply_on_detector_corrections`.
    """
    f0, f1, f2 = bc.flat_scale
    tab = cal.compact_tables()
    xi, eta, flags, col, row, detrad, mask, response, bad = _chain_kernel(
        x, y, xa, ya, q, t, tab["wiggle_x"], tab["wiggle_y"], tab["walk_x"], tab["walk_y"],
        tab["linearity_x"], tab["linearity_y"], float(stim_coefficients[0]),
        float(stim_coefficients[1]), tab["distortion_x"], tab["distortion_y"],
        cal.distortion_header, float(offsets[0]), float(offsets[1]), bc.flip, tab["flat"],
        tab["mask"], f0, f1, f2, POST_CSP_FLAT_TIME,
    )  # fmt: skip
    if bad:
        raise CalibrationError(
            f"bad distortion correction solution: {bad} events index outside the distortion cube"
        )
    return CalibratedPhotons(xi, eta, flags, col, row, detrad, mask, response)


def flat_scale(t: np.ndarray | float, bc: BandConstants) -> np.ndarray:
    """Flat-field scale c0 + c1 t + c2 t^2 (x1.018 after the CSP) at GALEX time t."""
    t = np.asarray(t, dtype=np.float64)
    c0, c1, c2 = bc.flat_scale
    s = c0 + c1 * t + (c2 * t) * t
    return np.where(t >= POST_CSP_FLAT_TIME, s * 1.018, s)


# --------------------------------------------------------------------------------------
# Post-CSP y corrections (rtaph.c via gPhoton 2)
# --------------------------------------------------------------------------------------
def rtaph_yap(ya: np.ndarray, yb: np.ndarray, yamc: np.ndarray) -> np.ndarray:
    """Wrap ya for yb in 2..4 (gPhoton 2 ``rtaph_yap``; the +32 is undone by the modulo)."""
    yap = ya.astype(np.int64)
    sel = (yb > 1) & (yb < 5)
    yap = yap + 32 * (sel & (((ya == 0) & (yamc > -50)) | ((ya == 1) & (yamc > -10))))
    return yap % 32


@njit(cache=True, nogil=True)
def _yac2_kernel(q, xb, yb, ya, y, wig2, wlk2, clk2, starts, incs):
    n = y.shape[0]
    out = np.zeros(n, np.float64)
    for i in range(n):
        y_as = y[i] * ASPUM
        if not (y_as > -2000 and y_as < 2000):
            continue
        yi = np.int64(y_as)
        a = np.int64((yi - starts[0]) / incs[0])
        b = np.int64((yi - starts[1]) / incs[1])
        c = np.int64((yi - starts[2]) / incs[2])
        # Summed: gPhoton 2 commit 09040c0 fixed WLK2/CLK2 overwriting WIG2.
        out[i] = wig2[a, yb[i], ya[i], xb[i]] + wlk2[b, yb[i], q[i]] + clk2[c, yb[i]]
    return out / ASPUM


def yac2_reference(q, xb, yb, ya, y, tables: PostCspTables) -> np.ndarray:
    """gPhoton 2 ``rtaph_yac2`` in numpy (microns)."""
    y_as = y * ASPUM
    out = np.zeros(len(y_as))
    ix = np.nonzero((y_as > -2000) & (y_as < 2000))[0]
    yi = np.array(y_as, dtype=np.int64)
    ii = ((yi - tables.starts[0]) / tables.incs[0])[ix].astype(np.int64)
    out[ix] = tables.wig2[ii, yb[ix], ya[ix], xb[ix]]
    ii = ((yi - tables.starts[1]) / tables.incs[1])[ix].astype(np.int64)
    out[ix] += tables.wlk2[ii, yb[ix], q[ix]]
    ii = ((yi - tables.starts[2]) / tables.incs[2])[ix].astype(np.int64)
    out[ix] += tables.clk2[ii, yb[ix]]
    return out / ASPUM


def yac2_correction(q, xb, yb, ya, y, tables: PostCspTables) -> np.ndarray:
    """Secondary post-CSP y correction in microns: WIG2 + WLK2 + CLK2 lookups summed."""
    return _yac2_kernel(
        q.astype(np.int64), xb.astype(np.int64), yb.astype(np.int64), ya.astype(np.int64),
        np.ascontiguousarray(y, dtype=np.float64), tables.wig2, tables.wlk2, tables.clk2,
        np.array(tables.starts), np.array(tables.incs),
    )  # fmt: skip


@dataclass(frozen=True)
class YacSolution:
    """Post-CSP stim scaling and ya correction table (gPhoton 2 ``compute_stimstats_2``)."""

    mx: float
    bx: float
    my: float
    by: float
    stimsep: float
    yactbl: np.ndarray  # shape (40, 8), microns, indexed [yap, yb]


def apply_yac_correction(
    fields: dict[str, np.ndarray], x, y, sol: YacSolution, tables: PostCspTables
):
    """Post-CSP x, y (microns): scale/shift, subtract yac, then add the summed yac2."""
    xc = sol.mx * x + sol.bx
    yc = sol.my * y + sol.by
    yap = rtaph_yap(fields["ya"], fields["yb"], fields["yamc"])
    yc = yc - sol.yactbl[yap, fields["yb"].astype(np.int64)]
    yc = yc + yac2_correction(fields["q"], fields["xb"], fields["yb"], fields["ya"], yc, tables)
    return xc, yc
