"""The transit search's trial grid: durations that scale with period, periods spaced as Ofir 2014.

A central transit of a circular orbit lasts ``T = P / (pi a/R*)`` with ``a/R* = 4.208 P^(2/3)
rho^(1/3)`` (P in days, rho the star's mean density in solar units), i.e.
``T = 0.0756 d P^(1/3) rho^(-1/3)``: 13 h for the Earth. Trial durations at each period run
from ``q_min T`` (grazing, impact parameter ~0.95) to ``q_max T`` (eccentric orbits, density
errors, large planets) with the density from the star's parameters when known, over a broad
density range otherwise.

Periods follow Ofir (2014, A&A 561, A138): the phase drift between neighbouring trial
frequencies over the whole time span ``S`` (first to last cadence, gaps included) must stay a
fraction ``1 / oversample`` of the transit duration, which makes the trial frequencies uniform in
``f^(1/3)`` with a step ``A / 3``, ``A = (2 pi)^(2/3) / pi * R / (G M)^(1/3) / (S oversample)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import InvalidInput

DURATION_COEFF = 0.0756
"""Central-transit duration of a 1-d orbit around a star of solar density, days."""

OFIR_COEFF = (2 * np.pi) ** (2 / 3) / np.pi / 14.33
"""``(2 pi)^(2/3) / pi * R_sun / (G M_sun)^(1/3)`` in days^(2/3) (G M_sun = 2940 R_sun^3 d^-2)."""

BROAD_DENSITY = (0.1, 10.0)
"""Density range (solar units) searched when the star's is unknown: subgiants to late K/M dwarfs."""

SOLAR_LOGG = 4.438


def stellar_density(
    *, logg: float | None = None, radius: float | None = None, mass: float | None = None
) -> float | None:
    """Mean density in solar units from (mass, radius) or (logg, radius); None when unknown.

    ``rho = M / R^3`` or ``g / R`` in solar units; an absurd value (outside 1e-3..1e3) is
    treated as unknown rather than trusted.
    """
    rho = None
    if radius is not None and np.isfinite(radius) and radius > 0:
        if mass is not None and np.isfinite(mass) and mass > 0:
            rho = mass / radius**3
        elif logg is not None and np.isfinite(logg):
            rho = 10.0 ** (logg - SOLAR_LOGG) / radius
    if rho is None or not (1e-3 < rho < 1e3):
        return None
    return float(rho)


def transit_duration(period: np.ndarray | float, density: float) -> np.ndarray:
    """Central-transit duration, days, of a circular orbit of ``period`` days."""
    return DURATION_COEFF * np.cbrt(np.asarray(period, dtype=np.float64)) / np.cbrt(density)


@dataclass(frozen=True)
class DurationLaw:
    """Trial durations as a function of period.

    Attributes
    ----------
    density_lo, density_hi : float
        Stellar density range, solar units (equal when the star's density is known).
    q_min, q_max : float
        Shortest and longest trial duration as fractions of the central duration.
    min_duration, max_duration : float
        Absolute floor and ceiling, days (the cadence and a day, say).
    max_duty : float
        No trial box longer than this fraction of the period.
    """

    density_lo: float
    density_hi: float
    q_min: float = 0.3
    q_max: float = 1.5
    min_duration: float = 0.5 / 24
    max_duration: float = 1.0
    max_duty: float = 0.12

    @classmethod
    def for_star(cls, density: float | None, **kw: float) -> DurationLaw:
        lo, hi = (density, density) if density else BROAD_DENSITY
        return cls(lo, hi, **kw)

    def bounds(self, period: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        """(shortest, longest) trial duration at each period, days."""
        p = np.asarray(period, dtype=np.float64)
        lo = self.q_min * transit_duration(p, self.density_hi)
        hi = self.q_max * transit_duration(p, self.density_lo)
        hi = np.minimum(np.minimum(hi, self.max_duration), self.max_duty * p)
        lo = np.minimum(np.maximum(lo, self.min_duration), hi)
        return lo, hi

    def plausible(self, period: float, duration: float, slack: float = 1.25) -> float:
        """Duration over the range expected at ``period``: 1 inside, >1 or <1 by how far outside."""
        lo, hi = (float(v) for v in self.bounds(period))
        if duration > hi * slack:
            return duration / hi
        if duration < lo / slack:
            return duration / lo
        return 1.0


def ofir_periods(
    period_min: float, period_max: float, span: float, density: float, oversample: float = 3.0
) -> np.ndarray:
    """Trial periods (days, ascending) uniform in ``f^(1/3)`` (Ofir 2014) over ``span`` days.

    Parameters
    ----------
    period_min, period_max : float
        Period range, days.
    span : float
        First to last cadence, days, gaps included: the phase drift builds up over all of it.
    density : float
        Stellar density (solar units) whose central durations set the spacing; the densest
        star searched gives the finest grid.
    oversample : float
        Trial frequencies per duration-width of drift (TLS uses 3).
    """
    if not (0 < period_min < period_max) or not span > 0 or not oversample > 0:
        raise InvalidInput("need 0 < period_min < period_max, a positive span and oversample")
    a = OFIR_COEFF / np.cbrt(density) / (span * oversample)
    lo, hi = np.cbrt(1.0 / period_max), np.cbrt(1.0 / period_min)
    n = int(np.ceil((hi - lo) * 3.0 / a)) + 1
    cube = np.linspace(lo, hi, max(n, 2))
    return np.sort(1.0 / cube**3)


def ofir_count(
    period_min: float, period_max: float, span: float, density: float, oversample: float = 3.0
) -> int:
    """How many periods :func:`ofir_periods` would return, without making them."""
    a = OFIR_COEFF / np.cbrt(density) / (span * oversample)
    return int(np.ceil((np.cbrt(1.0 / period_min) - np.cbrt(1.0 / period_max)) * 3.0 / a)) + 1


def period_chunks(periods: np.ndarray, ratio: float = 1.25) -> list[slice]:
    """Slices of ascending ``periods`` each spanning at most a factor ``ratio`` (one duration set each)."""
    out, start = [], 0
    while start < periods.size:
        stop = int(np.searchsorted(periods, periods[start] * ratio, side="right"))
        stop = max(stop, start + 1)
        out.append(slice(start, stop))
        start = stop
    return out


def chunk_durations(law: DurationLaw, p_lo: float, p_hi: float, step: float = 1.3) -> np.ndarray:
    """Geometric trial durations (days) covering the law's range over periods ``p_lo..p_hi``."""
    lo = float(law.bounds(p_lo)[0])
    hi = float(law.bounds(p_hi)[1])
    hi = min(hi, law.max_duty * p_lo)
    lo = min(lo, hi)
    n = max(2, int(np.ceil(np.log(hi / lo) / np.log(step))) + 1) if hi > lo else 1
    return np.geomspace(lo, hi, n)
