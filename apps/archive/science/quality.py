"""Quality flags: the one table of the bitmasks the ingest and the light-curve pipeline apply.

Raw flags are always kept; the ingest adds one boolean column, ``GOOD_QUALITY``, that is True where
none of the "default" bits is set. The bits are those of lightkurve 2.x ``KeplerQualityFlags`` and
``TessQualityFlags`` (``DEFAULT_BITMASK``), the convention Kepler/TESS users know: they drop
cadences with severe problems (pointing, safe mode, Earth point, desaturation, manual exclude,
...) and keep cadences with merely informative flags (e.g. cosmic ray in the collateral data).

K2: lightkurve has no K2 flag class of its own; its K2 reader uses ``KeplerQualityFlags``, so its
K2 default is Kepler's (1130799), which already holds the definite thruster firing (2^20). The
ingest follows it (:data:`DEFAULT_BITMASK`). The light-curve pipeline's cleaning is stricter for
K2 only (:data:`PIPELINE_BITMASK`): it also drops "possible thruster firing" (2^19, in
lightkurve's "hard" mask), since cadences near K2's ~6-h roll corrections jump in flux.
"""

from __future__ import annotations

import numpy as np

KEPLER_DEFAULT_BITS = {
    1: "Attitude tweak",
    2: "Safe mode",
    4: "Coarse point",
    8: "Earth point",
    32: "Desaturation event",
    256: "Manual exclude",
    16384: "Detector anomaly",
    65536: "No data",
    1048576: "Thruster firing",
}
"""Kepler/K2 SAP_QUALITY bits in lightkurve's default mask (sum 1130799)."""

TESS_DEFAULT_BITS = {
    1: "Attitude tweak",
    2: "Safe mode",
    4: "Coarse point",
    8: "Earth point",
    16: "Argabrightening",
    32: "Desaturation event",
    128: "Manual exclude",
    512: "Impulsive outlier",
    16384: "Bad calibration exclude",
}
"""TESS QUALITY bits in lightkurve's default mask (sum 17087)."""

KEPLER_DEFAULT_BITMASK = sum(KEPLER_DEFAULT_BITS)
TESS_DEFAULT_BITMASK = sum(TESS_DEFAULT_BITS)

DEFAULT_BITMASK = {
    "kepler": KEPLER_DEFAULT_BITMASK,
    "k2": KEPLER_DEFAULT_BITMASK,
    "tess": TESS_DEFAULT_BITMASK,
}
"""Mission -> default bitmask (lightkurve's); K2 uses the Kepler flag definitions."""

K2_POSSIBLE_THRUSTER_FIRING = 524288
"""Kepler/K2 bit 2^19, "Possible thruster firing" (in lightkurve's hard mask, not its default)."""

PIPELINE_BITMASK = {**DEFAULT_BITMASK, "k2": KEPLER_DEFAULT_BITMASK | K2_POSSIBLE_THRUSTER_FIRING}
"""Mission -> bitmask the light-curve pipeline cleans with: the default, plus 2^19 for K2."""


def pipeline_bitmask(mission: str) -> int:
    """The light-curve pipeline's bitmask for a mission name in any case (unknown: Kepler's)."""
    return PIPELINE_BITMASK.get(mission.lower(), KEPLER_DEFAULT_BITMASK)


def good_quality(quality: np.ndarray, bitmask: int) -> np.ndarray:
    """Cadences that pass a quality bitmask.

    Parameters
    ----------
    quality : ndarray of int, shape (n,)
        Raw quality flags (Kepler SAP_QUALITY or TESS QUALITY).
    bitmask : int
        Bits that mark a cadence as bad.

    Returns
    -------
    ndarray of bool, shape (n,)
        True where ``quality & bitmask == 0``.
    """
    return (np.asarray(quality).astype(np.int64, copy=False) & int(bitmask)) == 0
