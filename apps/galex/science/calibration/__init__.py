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
step is the identity and :class:`.files.CalibrationSet` records that in ``provenance`` and
``warnings`` so every product says so.

Kernels compute in float64; gPhoton 2 keeps float32 intermediates (differences ~1e-3 arcsec).
"""

from .files import fuv_offsets, load_calibration
from .postcsp import (
    PostCspTables,
    YacSolution,
    apply_yac_correction,
    load_post_csp_tables,
    rtaph_yap,
)
from .steps import (
    DetectorEvents,
    DetectorSetup,
    apply_detector_chain,
    apply_on_detector_corrections,
    calibrate_response,
    flat_scale,
)

__all__ = [
    "DetectorEvents", "DetectorSetup", "PostCspTables", "YacSolution", "apply_detector_chain",
    "apply_on_detector_corrections", "apply_yac_correction", "calibrate_response", "flat_scale",
    "fuv_offsets", "load_calibration", "load_post_csp_tables", "rtaph_yap",
]  # fmt: skip
