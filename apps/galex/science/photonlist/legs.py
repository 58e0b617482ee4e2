"""Per-leg bookkeeping: which file rows belong to which leg, and what each leg holds."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numba import njit

from ..aspect import AspectSolution
from ..constants import (
    ON_DETECTOR_RADIUS,
)


@njit(cache=True, nogil=True)
def _leg_stats_kernel(t, ra, dec, flags, detrad, radius):
    # Flag histogram, and min/max of t, ra, ra wrapped to (-180, 180], dec over on-image
    # events (finite ra, detrad < radius); bounds are (+inf, -inf) pairs when there are none.
    counts = np.zeros(256, np.int64)
    bounds = np.empty(8)
    bounds[0::2] = np.inf
    bounds[1::2] = -np.inf
    n_on = 0
    for i in range(t.shape[0]):
        counts[flags[i]] += 1
        if not (np.isfinite(ra[i]) and detrad[i] < radius):
            continue
        n_on += 1
        r = ra[i]
        w = r - 360.0 if r > 180.0 else r
        for k, v in enumerate((t[i], r, w, dec[i])):
            bounds[2 * k] = min(bounds[2 * k], v)
            bounds[2 * k + 1] = max(bounds[2 * k + 1], v)
    return counts, n_on, bounds


def leg_stats_reference(t, ra, dec, flags, detrad, radius):
    """Slow, obvious twin of ``_leg_stats_kernel`` (numpy masks and reductions)."""
    counts = np.bincount(flags, minlength=256).astype(np.int64)
    on = np.isfinite(ra) & (detrad < radius)
    bounds = np.array([np.inf, -np.inf] * 4)
    if on.any():
        r = ra[on]
        for k, v in enumerate((t[on], r, np.where(r > 180, r - 360, r), dec[on])):
            bounds[2 * k], bounds[2 * k + 1] = v.min(), v.max()
    return counts, int(on.sum()), bounds


@dataclass
class LegStats:
    """What the photon-list pass learned about one leg."""

    leg: int
    path: Path
    n_events: int = 0
    n_flag: dict[int, int] = field(default_factory=dict)
    t_min: float = np.inf  # of events on the image (finite ra, detrad < 400)
    t_max: float = -np.inf
    ra_bounds: list[float] = field(default_factory=lambda: [np.inf, -np.inf])
    ra_bounds_wrapped: list[float] = field(default_factory=lambda: [np.inf, -np.inf])
    dec_bounds: list[float] = field(default_factory=lambda: [np.inf, -np.inf])
    n_on_image: int = 0

    def update(self, t, ra, dec, flags, detrad) -> None:
        """Fold one chunk in: flag counts, and time/sky bounds of its on-image events."""
        counts, n_on, bounds = _leg_stats_kernel(t, ra, dec, flags, detrad, ON_DETECTOR_RADIUS)
        self.n_events += len(t)
        for value in np.nonzero(counts)[0]:
            self.n_flag[int(value)] = self.n_flag.get(int(value), 0) + int(counts[value])
        if not n_on:
            return
        self.n_on_image += int(n_on)
        self.t_min, self.t_max = min(self.t_min, bounds[0]), max(self.t_max, bounds[1])
        for k, acc in enumerate((self.ra_bounds, self.ra_bounds_wrapped, self.dec_bounds)):
            acc[0], acc[1] = min(acc[0], bounds[2 + 2 * k]), max(acc[1], bounds[3 + 2 * k])

    def sky_bounds(self) -> tuple[float, float, float, float] | None:
        """(ra_min, ra_max, dec_min, dec_max) of on-image events; RA unwrapped near 0/360."""
        if not self.n_on_image:
            return None
        ra = (
            self.ra_bounds
            if self.ra_bounds[1] - self.ra_bounds[0] <= 350
            else self.ra_bounds_wrapped
        )
        return ra[0], ra[1], self.dec_bounds[0], self.dec_bounds[1]


@dataclass
class EventOrder:
    """What pass 1 learned about the order of the events (for :class:`LegRouter`).

    ``last_row[k]`` is the last file row whose time is at or before leg ``k``'s last aspect
    time (-1 if none); ``n_backwards`` counts events earlier than the one before them.
    """

    last_row: dict[int, int] = field(default_factory=dict)
    n_backwards: int = 0

    @property
    def time_sorted(self) -> bool:
        return self.n_backwards == 0

    def note(self, t: np.ndarray, first_row: int, last_t: float, asp: AspectSolution) -> None:
        """Fold in a non-empty chunk of times ``t`` whose first file row is ``first_row``;
        ``last_t`` is the time of the event before it (-inf for the first chunk)."""
        self.n_backwards += int(t[0] < last_t) + int(np.count_nonzero(np.diff(t) < 0))
        for leg in asp.legs:
            rows = np.flatnonzero(t <= leg.t_stop)
            if len(rows):
                self.last_row[leg.index] = first_row + int(rows[-1])


class LegRouter:
    """Which file rows belong to which leg, chunk by chunk, as gPhoton 2 ``chunk_by_legs``.

    Leg ``k`` holds the rows from the first row at or after the previous leg's end whose time
    is at or after the leg's first aspect time, to the last row whose time is at or before its
    last aspect time (gPhoton 2 drops that last row by an exclusive slice; we keep it). Rows
    are taken by position in the file, so time-sorted files give the same legs as a time
    search, and an unsorted file gives the legs gPhoton 2 gives it.
    """

    def __init__(self, asp: AspectSolution, order: EventOrder):
        self._legs = list(asp.legs)
        self._last = [order.last_row.get(leg.index, -1) for leg in self._legs]
        self._k = 0
        self._start = 0  # first row the current leg may begin at
        self._first: int | None = None  # the current leg's first row, once found

    def slices(self, t: np.ndarray, offset: int) -> list[tuple[int, slice]]:
        """``(leg index, slice of this chunk)`` pieces of the chunk of rows ``offset..``."""
        out, end = [], offset + len(t)
        while self._k < len(self._legs):
            leg, last = self._legs[self._k], self._last[self._k]
            if last < self._start:  # no row for this leg after the previous one
                self._next_leg(self._start)
                continue
            if self._first is None:
                lo = max(self._start, offset)
                if lo >= end:
                    break
                hits = np.flatnonzero(t[lo - offset :] >= leg.t_start)
                if not len(hits) or lo + int(hits[0]) > last:
                    if last < end:  # the leg ends in this chunk without a first row: empty
                        self._next_leg(last + 1)
                        continue
                    break
                self._first = lo + int(hits[0])
            lo, hi = max(self._first, offset), min(last + 1, end)
            if hi > lo:
                out.append((leg.index, slice(lo - offset, hi - offset)))
            if last < end:
                self._next_leg(last + 1)
                continue
            break
        return out

    def _next_leg(self, start: int) -> None:
        self._k, self._start, self._first = self._k + 1, start, None


def _leg_slices(t: np.ndarray, asp: AspectSolution) -> list[tuple[int, slice]]:
    """Slow, obvious twin of :class:`LegRouter` for time-sorted events (one chunk)."""
    out = []
    for leg in asp.legs:
        lo = int(np.searchsorted(t, leg.t_start, side="left"))
        hi = int(np.searchsorted(t, leg.t_stop, side="right"))
        if hi > lo:
            out.append((leg.index, slice(lo, hi)))
    return out
