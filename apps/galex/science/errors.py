"""Typed errors of the GALEX photon pipeline.

Every error the pipeline raises on bad input subclasses :class:`GalexError`, so the site's
job wrapper can catch one class and show its message, which always names the file, table
or eclipse at fault.
"""

from __future__ import annotations


class GalexError(Exception):
    """Base class of every error raised by ``apps.galex.science``."""


class Raw6Error(GalexError):
    """A raw6 telemetry file is missing, not gzip/FITS, truncated or lacks a column."""


class CalibrationError(GalexError):
    """A calibration file is missing or malformed, or a calibration step cannot apply."""


class StimError(GalexError):
    """Too few stim events to fit the stim separation (pre-CSP eclipses)."""


class AspectError(GalexError):
    """Aspect, boresight or metadata tables are missing, malformed or empty."""


class BandMismatch(GalexError):
    """The band asked for differs from the band recorded in the raw6 header."""


class EmptyLeg(GalexError):
    """A leg of the eclipse holds no photon events (or none usable for imaging)."""


class EclipseError(GalexError):
    """The eclipse number lies in a range gPhoton 2 refuses (CAUSE, or the CSP transition)."""


class ProductError(GalexError):
    """A product (photon list, image, movie, table) cannot be written or read back."""


class ReductionCancelled(GalexError):
    """The caller's ``should_cancel()`` returned True between two chunks or frames."""
