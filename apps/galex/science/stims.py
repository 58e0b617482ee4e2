"""Stim events: electronic stimulation pulses at four fixed detector positions.

Pre-CSP eclipses fit the stim separation against time (gPhoton 2
``create_ssd_from_decoded_data``): time-sort all stim events, take blocks of 1000, average
each stim's position per block, form ``((sx2-sx1)+(sx4-sx3)+(sy1-sy3)+(sy2-sy4))/4`` and fit
a line ``sep = C + m t``. The distortion cube is indexed by that separation. Post-CSP
eclipses use fixed coefficients and derive the y scale/shift and ``yac`` table from the stim
statistics instead (``compute_stimstats_2``). Stims are not removed: they fall off the
calibration grid and end up flagged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from .calibration import YacSolution, rtaph_yap
from .constants import ASPUM, STIM_BLOCK, stim_positions
from .errors import StimError


@njit(cache=True, nogil=True)
def _find_stims_kernel(x, y, sx, sy, margin):
    n = x.shape[0]
    ids = np.zeros(n, np.int8)
    for i in range(n):
        xa = x[i] * ASPUM
        ya = y[i] * ASPUM
        # Later stims win when boxes overlap, matching the reference's assignment order.
        for k in range(4):
            if (
                xa > sx[k] - margin
                and xa < sx[k] + margin
                and ya > sy[k] - margin
                and ya < sy[k] + margin
            ):
                ids[i] = k + 1
    return ids


def find_stims_reference(x, y, band: str, eclipse: int, margin: float) -> np.ndarray:
    """gPhoton 2 ``find_stims_index`` as an id array (0 = not a stim, 1..4 = stim)."""
    pos = stim_positions(band, eclipse)
    xa, ya = np.asarray(x) * ASPUM, np.asarray(y) * ASPUM
    ids = np.zeros(len(xa), np.int8)
    for k in range(4):
        box = (xa > pos[k, 0] - margin) & (xa < pos[k, 0] + margin)
        box &= (ya > pos[k, 1] - margin) & (ya < pos[k, 1] + margin)
        ids[box] = k + 1
    return ids


def find_stims(x: np.ndarray, y: np.ndarray, band: str, eclipse: int, margin: float) -> np.ndarray:
    """Label stim events.

    Parameters
    ----------
    x, y : float64 arrays, shape (n,)
        Detector microns (after centre and scale).
    band, eclipse : select the mean stim positions (NUV moves after the clock change).
    margin : float
        Half-width (arcsec) of the square box around each mean position: 20 pre-CSP,
        90.001 post-CSP.

    Returns
    -------
    int8 array, shape (n,): 0 for ordinary events, 1..4 for the stim each event belongs to.
    """
    pos = stim_positions(band, eclipse)
    return _find_stims_kernel(
        np.ascontiguousarray(x, np.float64), np.ascontiguousarray(y, np.float64),
        np.ascontiguousarray(pos[:, 0]), np.ascontiguousarray(pos[:, 1]), float(margin),
    )  # fmt: skip


@dataclass
class StimSample:
    """Stim events gathered over the whole eclipse (shape (m,) each), in file order."""

    t: np.ndarray
    x: np.ndarray
    y: np.ndarray
    stim: np.ndarray  # 1..4
    ya: np.ndarray
    yb: np.ndarray
    yamc: np.ndarray

    @classmethod
    def concatenate(cls, parts: list[StimSample]) -> StimSample:
        if not parts:
            empty = np.zeros(0)
            return cls(empty, empty, empty, empty.astype(np.int8), *(empty.astype(np.int16),) * 3)
        return cls(
            *(np.concatenate([getattr(p, f) for p in parts]) for f in cls.__dataclass_fields__)
        )


def stim_separation_blocks(sample: StimSample) -> tuple[np.ndarray, np.ndarray]:
    """Mean time and stim separation (arcsec) of each block of 1000 time-sorted stims.

    Follows gPhoton 2: blocks start at 0, 1000, ... while a full block remains beyond the
    start (``range(0, n - 1000, 1000)``), so the last partial block is ignored.
    """
    order = np.argsort(sample.t, kind="stable")
    t, ids = sample.t[order], sample.stim[order]
    xs, ys = sample.x[order] * ASPUM, sample.y[order] * ASPUM
    avt, sep = [], []
    for start in range(0, len(t) - STIM_BLOCK, STIM_BLOCK):
        block = slice(start, start + STIM_BLOCK)
        bid, bx, by = ids[block], xs[block], ys[block]
        mean = {(k, a): (bx if a == "x" else by)[bid == k].mean() if np.any(bid == k) else np.nan
                for k in range(1, 5) for a in ("x", "y")}  # fmt: skip
        sep.append(((mean[2, "x"] - mean[1, "x"]) + (mean[4, "x"] - mean[3, "x"])
                    + (mean[1, "y"] - mean[3, "y"]) + (mean[2, "y"] - mean[4, "y"])) / 4.0)  # fmt: skip
        avt.append(t[block].mean())
    return np.array(avt), np.array(sep)


def fit_stim_coefficients(sample: StimSample) -> tuple[float, float]:
    """Fit ``stim separation = C + m t`` (arcsec, t in GALEX s); return (C, m).

    Raises
    ------
    StimError
        With fewer than two complete blocks (2001 stim events) gPhoton 2 crashes inside
        ``np.polyfit``; we say why instead.
    """
    avt, sep = stim_separation_blocks(sample)
    good = np.isfinite(sep)
    if good.sum() < 2:
        raise StimError(
            f"stim-separation fit needs more than {2 * STIM_BLOCK} stim events with all four "
            f"stims present; found {len(sample.t)} stim events"
        )
    # Centre time for conditioning; the line is the same as gPhoton's polyfit(avt, sep, 1).
    t0 = avt[good].mean()
    m, c_centered = np.polyfit(avt[good] - t0, sep[good], 1)
    return float(c_centered - m * t0), float(m)


def post_csp_stimstats(sample: StimSample, band: str) -> YacSolution:
    """Post-CSP stim scale/shift, stim separation and ``yac`` table (gPhoton 2 ``compute_stimstats_2``).

    Parameters
    ----------
    sample : stim events found with the post-CSP margin.
    band : selects the pre-CSP reference stim positions the scale is pinned to.
    """
    if any(not np.any(sample.stim == k) for k in range(1, 5)):
        raise StimError("post-CSP stim statistics need events from all four stims")
    avg = {
        k: (sample.x[sample.stim == k].mean() * ASPUM, sample.y[sample.stim == k].mean() * ASPUM)
        for k in range(1, 5)
    }
    stimsep = (
        (avg[2][0] - avg[1][0])
        + (avg[4][0] - avg[3][0])
        + (avg[1][1] - avg[3][1])
        + (avg[2][1] - avg[4][1])
    ) / 4
    scale, shift = _stim_scaling(avg, band)
    yactbl = _yac_table(sample, sample.y * scale["y"] + shift["y"])
    return YacSolution(scale["x"], shift["x"], scale["y"], shift["y"], float(stimsep), yactbl)


def _stim_scaling(avg: dict[int, tuple[float, float]], band: str) -> tuple[dict[str, float], dict[str, float]]:
    """Scale and shift per axis that pin the mean stim positions ``avg`` (arcsec) to the
    pre-CSP ones; shifts in microns."""
    pre = stim_positions(band, 0)
    scale, shift = {}, {}
    for axis, a in (("x", 0), ("y", 1)):
        c1, c2, c3, c4 = (1, 2, 3, 4) if axis == "y" else (1, 3, 2, 4)
        side1, side2 = (avg[c1][a] + avg[c2][a]) / 2.0, (avg[c3][a] + avg[c4][a]) / 2.0
        side1_0 = (pre[c1 - 1, a] + pre[c2 - 1, a]) / 2.0
        side2_0 = (pre[c3 - 1, a] + pre[c4 - 1, a]) / 2.0
        scale[axis] = (side1_0 - side2_0) / (side1 - side2)
        shift[axis] = (side1_0 - scale[axis] * side1) / ASPUM
    return scale, shift


def _yac_table(sample: StimSample, ys: np.ndarray) -> np.ndarray:
    """The (40, 8) ya correction table from a line fit of the stims' y residuals (``ys``:
    scaled y, microns) against the wrapped ya, with gPhoton 2's slopes for yb 2..4."""
    yap = rtaph_yap(sample.ya, sample.yb, sample.yamc)
    sel = (sample.ya > 2) & (sample.yb == 2)
    resid = np.zeros(len(ys))
    for k in range(1, 5):
        own = sample.stim == k
        resid[own] = ys[own] - ys[own].mean()
    if sel.sum() < 2:
        raise StimError("post-CSP ya correction fit needs stim events with ya > 2 and yb == 2")
    coef1, coef0 = np.polyfit(yap[sel], resid[sel], 1)
    coef0_yb, coef1_yb = np.full(8, coef0), np.full(8, coef1)
    for yb, slope_scale in ((2, 1.04), (3, 1.06), (4, 1.06)):
        rr1 = coef1 * slope_scale
        coef0_yb[yb] = (coef0 + 16.0 * coef1) - 16.0 * rr1
        coef1_yb[yb] = rr1
    return coef0_yb[None, :] + np.arange(40, dtype=np.float64)[:, None] * coef1_yb[None, :]
