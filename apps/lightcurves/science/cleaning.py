"""Cleaning: quality-flag masking, NaN removal, gap splitting, per-segment normalisation, stitching.

The split rule is AstroNet's (``light_curve/util.py::split``): a new segment starts wherever
``time[i] - time[i-1] > gap``, with ``gap = 0.75`` days.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .errors import InsufficientData, InvalidInput
from .io import LightCurve

KEPLER_DEFAULT_BITMASK = 1130799
"""lightkurve's "default" Kepler quality bitmask (attitude tweak, safe mode, coarse point, ...)."""

TESS_DEFAULT_BITMASK = 17087
"""lightkurve's "default" TESS quality bitmask."""

K2_DEFAULT_BITMASK = KEPLER_DEFAULT_BITMASK | (1 << 19) | (1 << 20)
"""Kepler's bitmask plus K2's thruster firings: 2^19 (possible) and 2^20 (definite), the ~6-h
roll corrections whose cadences jump in flux."""

GAP_DAYS = 0.75
"""Gap length (days) that starts a new segment, as in AstroNet and the seed."""


def default_bitmask(mission: str) -> int:
    """The lightkurve "default" bitmask for a mission (K2: Kepler's plus both thruster bits)."""
    name = mission.upper()
    if name == "TESS":
        return TESS_DEFAULT_BITMASK
    return K2_DEFAULT_BITMASK if name == "K2" else KEPLER_DEFAULT_BITMASK


def clean(lc: LightCurve, *, quality: bool = True) -> LightCurve:
    """Drop cadences with a non-finite time or flux and, optionally, flagged cadences.

    Parameters
    ----------
    lc : LightCurve
        Raw curve, any order.
    quality : bool
        Apply the mission's lightkurve "default" bitmask. AstroNet applies none (``astronet`` preset).

    Returns
    -------
    LightCurve
        Cadences sorted by time with finite time and flux.

    Raises
    ------
    InsufficientData
        Nothing usable is left (empty input, all-NaN flux, every cadence flagged).
    """
    keep = np.isfinite(lc.time) & np.isfinite(lc.flux)
    if quality:
        keep &= (lc.quality & default_bitmask(lc.mission)) == 0
    if not keep.any():
        raise InsufficientData(
            f"{lc.mission} {lc.target_id} segment {lc.segment}: no cadence with finite time and "
            "flux left after cleaning"
        )
    out = lc.take(keep)
    order = np.argsort(out.time, kind="stable")
    return out if np.all(order == np.arange(len(order))) else out.take(order)


def segment_bounds(
    time: np.ndarray, part: np.ndarray | None = None, gap: float = GAP_DAYS
) -> np.ndarray:
    """Start indices of contiguous segments, plus the end index.

    Parameters
    ----------
    time : ndarray, shape (n,)
        Sorted times, days.
    part : ndarray, shape (n,), optional
        Input-file index of each cadence; a change of file also starts a segment.
    gap : float
        A step in time longer than this (days) starts a segment.

    Returns
    -------
    ndarray of int64, shape (n_segments + 1,)
        ``bounds[k]:bounds[k+1]`` is segment k.
    """
    breaks = np.diff(time) > gap
    if part is not None:
        breaks |= np.diff(part) != 0
    inner = np.flatnonzero(breaks) + 1
    return np.concatenate(([0], inner, [len(time)])).astype(np.int64)


def split(time: np.ndarray, values: np.ndarray, gap: float = GAP_DAYS) -> tuple[list, list]:
    """Split arrays at gaps longer than ``gap`` days (AstroNet's ``util.split``)."""
    bounds = segment_bounds(time, gap=gap)
    pairs = [(time[a:b], values[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def normalise(values: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Divide every segment by its median so segments with different gains line up at 1."""
    out = np.array(values, dtype=np.float64)
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        med = np.nanmedian(out[a:b])
        if np.isfinite(med) and med != 0:
            out[a:b] /= med
    return out


def stitch(curves: Sequence[LightCurve]) -> LightCurve:
    """Concatenate curves (quarters, sectors) in time order, remembering each cadence's file.

    Raises
    ------
    InvalidInput
        No curves given, or curves of different targets or missions.
    """
    if not curves:
        raise InvalidInput("no light curves given")
    targets = {(c.mission, c.target_id) for c in curves}
    if len(targets) > 1:
        raise InvalidInput(f"cannot stitch light curves of different targets: {sorted(targets)}")
    ordered = sorted(
        curves, key=lambda c: float(np.nanmin(c.time)) if np.isfinite(c.time).any() else np.inf
    )
    names = (
        "time",
        "flux",
        "flux_err",
        "sap_flux",
        "sap_flux_err",
        "centroid_col",
        "centroid_row",
        "quality",
    )
    arrays = {n: np.concatenate([getattr(c, n) for c in ordered]) for n in names}
    part = np.concatenate([np.full(len(c), i, dtype=np.int64) for i, c in enumerate(ordered)])
    first = ordered[0]
    segment = first.segment if len(ordered) == 1 else -1
    return LightCurve(
        **arrays, mission=first.mission, target_id=first.target_id, segment=segment, part=part
    )
