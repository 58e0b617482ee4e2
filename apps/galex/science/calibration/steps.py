"""Public on-detector steps: corrections, response and the fused chain."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..constants import POST_CSP_FLAT_TIME, BandConstants
from ..errors import CalibrationError
from .files import CalibrationSet
from .kernels import (
    chain_kernel,
    detector_kernel,
    distortion_kernel,
    linearity_kernel,
    response_kernel,
    walk_kernel,
    wiggle_kernel,
)


@dataclass(frozen=True)
class DetectorEvents:
    """Per-event inputs of the on-detector steps, all shape (n,).

    x, y: float64 detector microns from :func:`raw6.center_and_scale` (post-CSP: after the
    yac step). xa, ya, q: int TAC phases and pulse height; they index the wiggle and walk
    tables. t: float64 GALEX time (s); sets the stim separation ``C + m t`` for the
    distortion cube.
    """

    x: np.ndarray
    y: np.ndarray
    xa: np.ndarray
    ya: np.ndarray
    q: np.ndarray
    t: np.ndarray


@dataclass(frozen=True)
class DetectorSetup:
    """What the on-detector steps need besides the events, fixed for a band and leg.

    stim_coefficients: (C, m), the stim-separation fit (pre-CSP) or gPhoton's fixed
    post-CSP values. offsets: (xoffset, yoffset), FUV temperature offsets in arcsec;
    (0, 0) for NUV.
    """

    cal: CalibrationSet
    bc: BandConstants
    stim_coefficients: tuple[float, float]
    offsets: tuple[float, float] = (0.0, 0.0)

    def distortion_args(self) -> tuple[float, float]:
        """(C, m) as plain floats, the form the kernels take."""
        return float(self.stim_coefficients[0]), float(self.stim_coefficients[1])

    def offset_args(self) -> tuple[float, float]:
        """(xoffset, yoffset) as plain floats, the form the kernels take."""
        return float(self.offsets[0]), float(self.offsets[1])


def _refuse_bad_distortion(bad: int) -> None:
    # gPhoton 2 refuses the whole leg when a good event indexes outside the cube.
    if bad:
        raise CalibrationError(
            f"bad distortion correction solution: {bad} events index outside the distortion cube"
        )


@dataclass
class DetectorPositions:
    """Output of :func:`apply_on_detector_corrections`, all shape (n,)."""

    xi: np.ndarray  # 0.1 arcsec, detector frame
    eta: np.ndarray
    col: np.ndarray  # detector pixel (6 arcsec), 0..800
    row: np.ndarray
    flags: np.ndarray  # uint8: 0 good, 6 failed a cut


def apply_on_detector_corrections(ev: DetectorEvents, setup: DetectorSetup) -> DetectorPositions:
    """Run wiggle, walk, linearity, distortion and detector-coordinate steps in order."""
    cal = setup.cal
    xdig, ydig, flags = wiggle_kernel(ev.x, ev.y, ev.xa, ev.ya, cal.wiggle_x, cal.wiggle_y)
    xp_as, yp_as, flags = walk_kernel(xdig, ydig, ev.q, flags, cal.walk_x, cal.walk_y)
    dx, dy, flags = linearity_kernel(xp_as, yp_as, flags, cal.linearity_x, cal.linearity_y)
    xs, ys, flags, bad = distortion_kernel(
        xp_as, yp_as, ev.t, flags, *setup.distortion_args(),
        cal.distortion_x, cal.distortion_y, cal.distortion_header, *setup.offset_args(),
    )  # fmt: skip
    _refuse_bad_distortion(bad)
    xi, eta, col, row, flags = detector_kernel(xp_as, yp_as, dx, dy, xs, ys, flags, setup.bc.flip)
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
        *response_kernel(col, row, t, cal.flat, cal.mask, c0, c1, c2, POST_CSP_FLAT_TIME)
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


def apply_detector_chain(ev: DetectorEvents, setup: DetectorSetup) -> CalibratedPhotons:
    """:func:`apply_on_detector_corrections` then :func:`calibrate_response`, fused.

    One pass per event with no intermediate arrays; the values are bit-identical to the
    two steps (col, row, detrad and response rounded to float32 as the photon list stores
    them).
    """
    f0, f1, f2 = setup.bc.flat_scale
    tab = setup.cal.compact_tables()
    xi, eta, flags, col, row, detrad, mask, response, bad = chain_kernel(
        ev.x, ev.y, ev.xa, ev.ya, ev.q, ev.t, tab["wiggle_x"], tab["wiggle_y"], tab["walk_x"],
        tab["walk_y"], tab["linearity_x"], tab["linearity_y"], *setup.distortion_args(),
        tab["distortion_x"], tab["distortion_y"], setup.cal.distortion_header,
        *setup.offset_args(), setup.bc.flip, tab["flat"], tab["mask"], f0, f1, f2,
        POST_CSP_FLAT_TIME,
    )  # fmt: skip
    _refuse_bad_distortion(bad)
    return CalibratedPhotons(xi, eta, flags, col, row, detrad, mask, response)


def flat_scale(t: np.ndarray | float, bc: BandConstants) -> np.ndarray:
    """Flat-field scale c0 + c1 t + c2 t^2 (x1.018 after the CSP) at GALEX time t."""
    t = np.asarray(t, dtype=np.float64)
    c0, c1, c2 = bc.flat_scale
    s = c0 + c1 * t + (c2 * t) * t
    return np.where(t >= POST_CSP_FLAT_TIME, s * 1.018, s)
