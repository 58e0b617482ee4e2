"""GALEX mission and detector constants, as used by gPhoton 2.

Values are copied from gPhoton 2 (``constants.py``, ``calibrate.py``) and the mission
pipeline they port; the comments say where each comes from so a reader can check them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import EclipseError, GalexError

# Plate scale: arcsec per mm, and arcsec per detector micron.
PLTSCL = 68.754932
ASPUM = PLTSCL / 1000.0
DETSIZE = 1.25  # detector field of view, degrees
ARCSEC_PER_PIXEL = 1.5  # sky image pixel
DEG_PER_PIXEL = 0.000416666666666667  # gPhoton 2 DEGPERPIXEL (1.5 arcsec)
PIXEL_SIZE = 0.00166666666666667  # detector pixel, degrees (6 arcsec)
PIXELS_PER_AXIS = 800
FILL_VALUE = DETSIZE / (PIXEL_SIZE * PIXELS_PER_AXIS)
CAL_GRID = 480  # wiggle/walk/linearity tables: 480 cells of 10 arcsec

# GALEX time = seconds since the GPS epoch 1980-01-06T00:00:00 (no leap seconds).
GPS_EPOCH_UNIX = 315964800

# Eclipse ranges (gPhoton 2 reference.check_eclipse and photonpipe.core).
LAST_PRE_CSP_ECLIPSE = 37423  # post-CSP code paths are taken for eclipse > 37423
CLOCK_CHANGE_ECLIPSE = 38150  # NUV yclk and stim positions change at >= 38150
LAST_SUPPORTED_ECLIPSE = 47000  # CAUSE-era data beyond this are refused
POST_CSP_FLAT_TIME = 881881215.995  # flat scale x1.018 from this GALEX time on
POST_CSP_STIM_COEFFICIENTS = (5105.48, 0.0)  # rtaph.c: fixed after the CSP
PRE_CSP_STIM_MARGIN = 20.0  # arcsec box half-width around each mean stim position
POST_CSP_STIM_MARGIN = 90.001
STIM_BLOCK = 1000  # stim events per stim-separation sample (gPhoton ``pinc``)

# Photon flags written to photon lists (gPhoton 2 semantics).
FLAG_GOOD = 0
FLAG_OFF_DETECTOR = 6  # transient: failed an on-detector cut
FLAG_NO_ASPECT = 7  # no bracketing aspect record
FLAG_BAD_ASPECT = 12  # bad/gappy aspect, or failed any on-detector cut
FLAG_GHOST = 120  # post-CSP ghost
NULL_SKY_FLAGS = (2, 5, 7, 8, 9, 10, 11, 12)  # ra/dec set to NaN for these

# Artifact bits of image FLAG planes and photometry artifact_flag columns.
ARTIFACT_HOTSPOT = 1
ARTIFACT_GHOST = 2
ARTIFACT_SOFT_EDGE = 4  # detrad > WIDE_EDGE
ARTIFACT_HARD_EDGE = 8  # detrad > NARROW_EDGE
WIDE_EDGE = 350.0
NARROW_EDGE = 370.0
ON_DETECTOR_RADIUS = 400.0

SHUTTER_GAP = 0.05  # seconds: gaps this long between good events are shutter time
FEE_CLOCK_RATIO = 0.966


@dataclass(frozen=True)
class BandConstants:
    """Per-band detector constants (gPhoton 2 ``clk_cen_scl_slp`` and friends)."""

    name: str
    code: int  # raw6/FITS BAND value: 1 NUV, 2 FUV
    letter: str  # file-name tag: n or f
    xclk: int
    yclk: int
    xcen: float
    ycen: float
    xscl: float
    yscl: float
    xslp: float
    yslp: float
    flip: float  # +1 NUV, -1 FUV: the detectors are mirrored on the sky
    flat_scale: tuple[float, float, float]  # c0 + c1 t + c2 t^2
    deadtime: tuple[float, float]  # stim rate model (slope, intercept) vs global rate
    mag_zero_point: float
    flux_per_cps: float  # erg s-1 cm-2 A-1 per count/s


def normalize_band(band: str) -> str:
    """Return ``"NUV"`` or ``"FUV"`` for any spelling, or raise :class:`GalexError`."""
    name = str(band).strip().upper()
    if name not in ("NUV", "FUV"):
        raise GalexError(f"band must be NUV or FUV, got {band!r}")
    return name


def band_constants(band: str, eclipse: int) -> BandConstants:
    """Detector constants of ``band`` for ``eclipse`` (NUV yclk changes post-CSP)."""
    name = normalize_band(band)
    if name == "FUV":
        return BandConstants(
            "FUV", 2, "f", 1997, 1993, 7200.0, 6670.0, 7.78, 10.73, 0.0, 0.0, -1.0,
            (1.2420282, -2.8843099e-10, 0.0), (-0.000408075976406, 76.3000943221),
            18.82, 1.40e-15,
        )  # fmt: skip
    yclk = 2016 if eclipse >= CLOCK_CHANGE_ECLIPSE else 1992
    return BandConstants(
        "NUV", 1, "n", 2007, yclk, 7400.0, 6070.0, 8.79, 14.01, 0.53, 0.0, 1.0,
        (1.9946352, -1.9679445e-09, 9.3025231e-19), (-0.000434730599193, 77.217817988),
        20.08, 2.06e-16,
    )  # fmt: skip


def band_from_code(code: int) -> str:
    """Band name of a raw6 ``BAND`` header value (gPhoton: 1 is NUV, anything else FUV)."""
    return "NUV" if int(code) == 1 else "FUV"


def is_post_csp(eclipse: int) -> bool:
    """True for eclipses reduced with gPhoton 2's post-CSP branches (> 37423)."""
    return eclipse > LAST_PRE_CSP_ECLIPSE


def check_eclipse(eclipse: int) -> None:
    """Refuse the eclipse ranges gPhoton 2 refuses, with the reason."""
    if eclipse < 1:
        raise EclipseError(f"eclipse must be a positive integer, got {eclipse}")
    if eclipse > LAST_SUPPORTED_ECLIPSE:
        raise EclipseError(f"eclipse {eclipse} is CAUSE-era data (> 47000), not supported")
    if LAST_PRE_CSP_ECLIPSE < eclipse < CLOCK_CHANGE_ECLIPSE:
        raise EclipseError(
            f"eclipse {eclipse} lies between the CSP event and the TAC clock change "
            "(37424-38149), which gPhoton 2 does not reduce"
        )


def stim_positions(band: str, eclipse: int) -> np.ndarray:
    """Mean stim positions (arcsec on the detector), shape (4, 2) as rows (x, y).

    From gPhoton 2 ``avg_stimpos``; NUV has separate post-clock-change values.
    """
    if normalize_band(band) == "FUV":
        xs = (-2541.88, 2632.06, -2541.53, 2631.68)
        ys = (2455.28, 2455.02, -2550.89, -2550.92)
    elif eclipse >= CLOCK_CHANGE_ECLIPSE:
        xs = (-2722.53, 2470.29, -2721.98, 2471.09)
        ys = (2549.96, 2550.10, -2538.57, -2538.62)
    else:
        xs = (-2722.27, 2468.84, -2721.87, 2469.85)
        ys = (2453.89, 2453.78, -2565.81, -2567.83)
    return np.column_stack([xs, ys]).astype(np.float64)


def file_prefix(eclipse: int, band: str) -> str:
    """gPhoton 2 file-name prefix, e.g. ``e23456-nd`` (direct-mode imaging)."""
    return f"e{eclipse:05d}-{band_constants(band, eclipse).letter}d"
