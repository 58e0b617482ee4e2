"""Cleaning: quality-flag masking, NaN removal, gap splitting, per-segment normalisation, stitching,
and the checks and gap filling every detrender applies to its input series.

The split rule is AstroNet's (``light_curve/util.py::split``): a new segment starts wherever
``time[i] - time[i-1] > gap``, with ``gap = 0.75`` days.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numba import njit

from apps.archive.science.quality import pipeline_bitmask

from .errors import InsufficientData, InvalidInput
from .io import LightCurve

GAP_DAYS = 0.75
"""Gap length (days) that starts a new segment, as in AstroNet and the seed."""


def default_bitmask(mission: str) -> int:
    """The quality bitmask cleaning applies (``quality.PIPELINE_BITMASK``: lightkurve's default;
    K2 also drops possible thruster firings)."""
    return pipeline_bitmask(mission)


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


def as_series(time: object, flux: object) -> tuple[np.ndarray, np.ndarray]:
    """Validate a (time, flux) pair: 1-D, same length, finite, sorted; return float64 copies."""
    t = np.ascontiguousarray(np.asarray(time, dtype=np.float64))
    f = np.ascontiguousarray(np.asarray(flux, dtype=np.float64))
    if t.ndim != 1 or f.shape != t.shape:
        raise InvalidInput(
            f"time and flux must be 1-D arrays of one length, got {t.shape} and {f.shape}"
        )
    if t.size == 0:
        raise InsufficientData("empty light curve")
    if not (np.isfinite(t).all() and np.isfinite(f).all()):
        raise InvalidInput("time and flux must be finite: clean the light curve first")
    if np.any(np.diff(t) < 0):
        raise InvalidInput("time must be sorted in ascending order")
    return t, f


def interpolate_masked(
    time: np.ndarray, flux: np.ndarray, masked: np.ndarray, bounds: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Replace masked cadences by linear interpolation of the unmasked ones, per segment.

    This is the seed's way of keeping transits out of the spline: the spline then sees a smooth
    bridge over each transit. Returns the filled flux and a per-cadence flag of segments that are
    entirely masked (those cannot be fitted).
    """
    filled = flux.copy()
    dead = np.zeros(flux.shape, dtype=bool)
    interpolate_kernel(
        np.ascontiguousarray(time, dtype=np.float64),
        np.ascontiguousarray(masked, dtype=np.bool_),
        np.asarray(bounds, dtype=np.int64),
        filled,
        dead,
    )
    return filled, dead


@njit(cache=True)
def interpolate_kernel(time, masked, bounds, filled, dead):
    """np.interp of each segment's masked cadences from its unmasked ones, in place.

    One walk per segment: a masked run takes the straight line between its unmasked
    neighbours (np.interp's formula), or the nearest unmasked value at a segment's end.
    """
    for s in range(bounds.shape[0] - 1):
        a, e = bounds[s], bounds[s + 1]
        prev = -1  # last unmasked cadence seen
        k = a
        while k < e:
            if not masked[k]:
                prev = k
                k += 1
                continue
            nxt = k
            while nxt < e and masked[nxt]:
                nxt += 1
            if prev < 0 and nxt == e:
                dead[a:e] = True
                break
            for i in range(k, nxt):
                if prev < 0:
                    filled[i] = filled[nxt]
                elif nxt == e:
                    filled[i] = filled[prev]
                else:
                    slope = (filled[nxt] - filled[prev]) / (time[nxt] - time[prev])
                    filled[i] = slope * (time[i] - time[prev]) + filled[prev]
            k = nxt
