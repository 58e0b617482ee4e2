"""Quality flags and the default mask applied at ingest (lightkurve's "default" bitmasks).

Raw flags are always kept; the ingest adds one boolean column, ``GOOD_QUALITY``, that is True where
none of the "default" bits is set. The bits are those of lightkurve 2.x ``KeplerQualityFlags`` and
``TessQualityFlags`` (``DEFAULT_BITMASK``), the convention Kepler/TESS users know: they drop
cadences with severe problems (pointing, safe mode, Earth point, desaturation, manual exclude,
...) and keep cadences with merely informative flags (e.g. cosmic ray in the collateral data).
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
"""Mission -> default bitmask; K2 uses the Kepler flag definitions."""


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
