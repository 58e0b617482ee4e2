"""Typed errors of the light-curve science package.

Every error raised at a public boundary subclasses :class:`LightCurveError`, so callers (the site's
actors, the management commands) can catch one class and report a clear message.
"""

from __future__ import annotations


class LightCurveError(Exception):
    """Base class of every error raised by ``apps.lightcurves.science``."""


class InvalidInput(LightCurveError, ValueError):
    """Arrays or options that cannot be processed (empty, all-NaN, wrong shape, bad option)."""


class MissingColumns(LightCurveError, KeyError):
    """A FITS file or table lacks the columns a light curve needs."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable.
        return str(self.args[0]) if self.args else "missing columns"


class BadEphemeris(InvalidInput):
    """A period, epoch or duration that cannot describe a transit in this light curve."""


class InsufficientData(InvalidInput):
    """Too few usable cadences for the requested computation."""
