"""Read real gPhoton products (gAperture light curves, gMap coadds) as arrays and tables.

The demo data hold CR Dra (an M-dwarf flare star) from GALEX visit 1, reduced by gPhoton
1.28.9: ``cr_dra_visit1_{nuv,fuv}.csv`` (gAperture, 10-s bins) and NUV count/intensity
coadds (gMap, 80x45 pixels at 1.5"). The site shows them next to our reductions; the tests
use them to check our count-rate conventions (``photometry.rate_columns``).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from astropy.io import fits
from astropy.wcs import WCS

from .constants import band_from_code
from .errors import ProductError

GAPERTURE_COLUMNS = (
    "t0", "t1", "t_mean", "cps", "cps_err", "flux", "flux_err", "mag", "mag_err_1", "mag_err_2",
    "counts", "flat_counts", "bg", "exptime", "cps_bgsub", "cps_bgsub_err", "flags",
)  # fmt: skip


def read_gaperture_csv(path: str | os.PathLike) -> pd.DataFrame:
    """A gAperture light curve (one row per time bin, GALEX time in s), all columns numeric.

    gAperture appends its call parameters as ``| key = value`` lines; (``# key = value`` in some files); they are removed
    from the table and kept as strings in ``table.attrs["gaperture"]`` (band, ra0, dec0,
    radius and annulus in degrees, stepsz, version ...).

    Raises
    ------
    ProductError
        If the file is missing or lacks one of the columns the site relies on.
    """
    path = Path(path)
    if not path.is_file():
        raise ProductError(f"gPhoton light curve {path} does not exist")
    table = pd.read_csv(path, dtype=str)
    is_meta = table.iloc[:, 0].fillna("").str.match(r"^\s*[|#]")
    params = {}
    for line in table.loc[is_meta].iloc[:, 0]:
        key, _, value = line.strip().lstrip("|#").partition(" = ")
        params[key.strip()] = value.strip()
    table = table.loc[~is_meta].apply(pd.to_numeric, errors="coerce").reset_index(drop=True)
    table.attrs["gaperture"] = params
    missing = [c for c in GAPERTURE_COLUMNS if c not in table.columns]
    if missing:
        raise ProductError(f"gPhoton light curve {path} lacks column(s) {', '.join(missing)}")
    return table


@dataclass
class Coadd:
    """A gMap coadd image with its sky geometry and time ranges."""

    path: Path
    kind: str  # "count" or "int"
    band: str
    image: np.ndarray  # float64 (ny, nx)
    wcs: WCS
    expstart: float
    expend: float
    exptime: float
    time_ranges: pd.DataFrame | None  # tstart, tstop, exptime (intensity maps)


def read_gmap_coadd(path: str | os.PathLike) -> Coadd:
    """Read a gMap count or intensity coadd (primary image + optional time-range table)."""
    path = Path(path)
    if not path.is_file():
        raise ProductError(f"gPhoton coadd {path} does not exist")
    with fits.open(path, memmap=False) as hdul:
        header = hdul[0].header
        image = np.asarray(hdul[0].data, np.float64)
        ranges = None
        if len(hdul) > 1 and hdul[1].data is not None:
            ranges = pd.DataFrame(
                {c: np.asarray(hdul[1].data[c], np.float64) for c in hdul[1].columns.names}
            )
        wcs = WCS(header, naxis=2)
    kind = "int" if "_int_" in path.name else "count"
    return Coadd(path, kind, band_from_code(header.get("BAND", 1)), image, wcs,
                 float(header.get("EXPSTART", np.nan)), float(header.get("EXPEND", np.nan)),
                 float(header.get("EXPTIME", np.nan)), ranges)  # fmt: skip


_NAME = re.compile(
    r"(?P<target>.+?)_(?P<band>nuv|fuv)(?:_(?P<kind>count|int)_coadd)?\.(?P<ext>csv|fits)$"
)


def list_gphoton_products(folder: str | os.PathLike) -> list[dict]:
    """Describe each recognised product file: path, target, band, kind (lightcurve/count/int)."""
    out = []
    for path in sorted(Path(folder).glob("*")):
        match = _NAME.match(path.name)
        if not match:
            continue
        kind = "lightcurve" if match["ext"] == "csv" else match["kind"]
        out.append(
            {"path": path, "target": match["target"], "band": match["band"].upper(), "kind": kind}
        )
    return out
