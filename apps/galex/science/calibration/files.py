"""Loading gPhoton 2's calibration files: the per-band set, FUV offsets, distortion names."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from astropy.io import fits

from ..constants import (
    is_post_csp,
    normalize_band,
)
from ..errors import CalibrationError

_EMPTY3 = np.zeros((0, 0, 0), np.float64)


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
        uint8 (1 where the mask is non-zero). Computed once per calibration set; the
        calibration threads of ``--threads`` ask for it at once, so the dict is published
        only when complete (two threads may both build it: same values).
        """
        compact = self._compact
        if compact is None:
            names = ("wiggle_x", "wiggle_y", "walk_x", "walk_y", "linearity_x", "linearity_y",
                     "flat", "distortion_x", "distortion_y")  # fmt: skip
            compact = {name: _smallest_exact(getattr(self, name)) for name in names}
            compact["mask"] = np.ascontiguousarray(self.mask != 0, dtype=np.uint8)
            self._compact = compact
        return compact


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
    load = _Loading(cal)
    wig_x, wig_y = load.pair("wiggle", (f"{band}_wiggle_x.fits", f"{band}_wiggle_y.fits"))
    lin_x, lin_y = load.pair("linearity", (f"{band}_NLC_x_det2sky.fits", f"{band}_NLC_y_det2sky.fits"))
    flat = load.one("flat", f"{band}_flat.fits")
    mask = load.one("mask", f"{band}_mask.fits")
    walk_x, walk_y, _ = load.optional_pair(
        "walk", (f"{band}_walk_x.fits", f"{band}_walk_y.fits"), "walk correction",
        "positions may be off by a pulse-height-dependent shift of order arcsec",
    )  # fmt: skip
    dist_names = distortion_file_names(band, eclipse, stimsep)
    dist_x, dist_y, dist_hdr = load.optional_pair(
        "distortion", dist_names, "stim-separation distortion correction"
    )
    header = np.zeros(6) if dist_hdr is None else _distortion_header(dist_hdr, dist_names[0])
    return CalibrationSet(
        band, eclipse, wig_x, wig_y, walk_x, walk_y, lin_x, lin_y, flat,
        mask, dist_x, dist_y, header, load.provenance, load.warnings,
    )  # fmt: skip


@dataclass
class _Loading:
    """The files of one calibration set as they are read, with their provenance and warnings."""

    folder: Path
    provenance: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def one(self, step: str, name: str) -> np.ndarray:
        """A required table."""
        data, _ = read_cal_file(self.folder, name)
        self.provenance[step] = name
        return data

    def pair(self, step: str, names: tuple[str, str]) -> tuple[np.ndarray, np.ndarray]:
        """A required x/y pair of tables."""
        x, _ = read_cal_file(self.folder, names[0])
        y, _ = read_cal_file(self.folder, names[1])
        self.provenance[step] = ", ".join(names)
        return x, y

    def optional_pair(
        self, step: str, names: tuple[str, str], correction: str, consequence: str = ""
    ) -> tuple[np.ndarray, np.ndarray, dict | None]:
        """An x/y pair and the x file's header when both files are present; else the identity
        (empty tables, no header), said in the provenance and a warning."""
        if all(_has(self.folder, n) for n in names):
            x, header = read_cal_file(self.folder, names[0])
            y, _ = read_cal_file(self.folder, names[1])
            self.provenance[step] = ", ".join(names)
            return x, y, header
        self.provenance[step] = f"identity ({names[0]}/{names[1]} absent from {self.folder})"
        note = f" ({consequence})" if consequence else ""
        self.warnings.append(f"{correction} NOT applied: {names[0]} and {names[1]} are absent{note}")
        return _EMPTY3, _EMPTY3, None


def _distortion_header(header: dict, name: str) -> np.ndarray:
    """DC_X0, DC_DX, DC_Y0, DC_DY, DC_D0, DC_DD of a distortion cube's header."""
    try:
        return np.array([float(header[k]) for k in ("DC_X0", "DC_DX", "DC_Y0", "DC_DY", "DC_D0", "DC_DD")])
    except KeyError as exc:
        raise CalibrationError(f"distortion cube {name} lacks header key {exc}") from exc


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
