"""Post-CSP y corrections (rtaph.c via gPhoton 2): WIG2/WLK2/CLK2 tables and yac."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
from numba import njit

from ..constants import (
    ASPUM,
)
from .files import read_cal_file


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
