"""Transit search: BLS over a period/duration grid, SDE/SNR, iterative masking, P vs P/2.

Each round runs :func:`bls.bls` on the flattened series, refines the best peak on a fine local
grid, checks whether the true period is twice the BLS period (an eclipsing binary with similar
primary and secondary eclipses folds best at P/2; its alternate events then differ in depth),
records the signal, masks its events and searches again.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .bls import bls
from .diagnostics import box_depth, robust_sigma, significance, transit_numbers
from .errors import InvalidInput
from .views import fold

DEFAULT_DURATIONS_HOURS = (1.0, 2.0, 3.5, 5.0, 8.0)
"""Trial durations, hours: from short hot-Jupiter transits to long eclipses."""


@dataclass(frozen=True)
class Signal:
    """One periodic dip found by the search.

    Attributes
    ----------
    period, epoch, duration : float
        Days (epoch in the light curve's time system).
    depth : float
        Box depth, fraction of the flux.
    snr : float
        Depth over its error: with the ``search_run`` search, the robust scatter of running
        means over one duration (red noise included) / sqrt(transits' worth of cadences); with
        the fixed-grid :func:`search`, robust point noise / sqrt(in-transit points).
    sde : float
        Signal detection efficiency of the BLS peak: (peak - mean) / std of the periodogram.
    n_transits : int
        Transits with in-transit data.
    odd_even_sigma : float
        Odd/even depth difference at the reported period, sigma.
    doubled : bool
        True when the BLS period was doubled because alternate events differ (an EB).
    secondary_sigma : float
        Depth of the deepest dip away from the transit (the secondary eclipse), sigma.
    duration_ratio : float
        1 when the duration is plausible for the period and the star's density, else the
        factor by which it lies outside the expected range (``grid.DurationLaw.plausible``).
    odd_even_flag, secondary_flag, duration_flag : bool
        The vetting checks that failed: odd and even depths differ, a significant secondary,
        a duration implausible for the star (each a warning; the signal is still reported).
    """

    period: float
    epoch: float
    duration: float
    depth: float
    snr: float
    sde: float
    n_transits: int
    odd_even_sigma: float
    doubled: bool
    secondary_sigma: float = float("nan")
    duration_ratio: float = 1.0
    odd_even_flag: bool = False
    secondary_flag: bool = False
    duration_flag: bool = False

    @property
    def duration_hours(self) -> float:
        return self.duration * 24.0

    @property
    def depth_ppm(self) -> float:
        return self.depth * 1e6

    def to_dict(self) -> dict[str, float | int | bool]:
        """Plain JSON-ready dict with the command-line names (duration_hours, depth_ppm)."""
        out = asdict(self)
        out.pop("duration")
        out.pop("depth")
        out.update(duration_hours=self.duration_hours, depth_ppm=self.depth_ppm)
        return out


def period_grid(period_min: float, period_max: float, n: int) -> np.ndarray:
    """``n`` log-spaced trial periods, days (constant relative step, as BLS peaks narrow as 1/P)."""
    if not (0 < period_min < period_max) or n < 2:
        raise InvalidInput("need 0 < period_min < period_max and at least 2 periods")
    return np.geomspace(period_min, period_max, n)


def sde(power: np.ndarray) -> float:
    """Signal detection efficiency of the highest peak."""
    std = float(np.std(power))
    return float((power.max() - power.mean()) / std) if std > 0 else 0.0


def _measure(time, flux, period, epoch, duration):
    """(depth, snr, n_transits, odd_even_sigma, odd and even depths with errors) of a box model."""
    phase = fold(time, period, epoch)
    inside = np.abs(phase) < duration / 2
    out = ~(np.abs(phase) < duration)
    base = float(np.median(flux[out])) if out.any() else 1.0
    sigma = robust_sigma(flux[out])
    depth, err, _ = box_depth(flux, inside, base, sigma)
    numbers = transit_numbers(time, period, epoch)
    odd = numbers % 2 == 0
    core = np.abs(phase) < duration / 4  # central half: insensitive to small epoch errors
    d_odd, e_odd, _ = box_depth(flux, core & odd, base, sigma)
    d_even, e_even, _ = box_depth(flux, core & ~odd, base, sigma)
    n_tr = int(np.unique(numbers[inside]).size)
    snr = depth / err if err > 0 else float("nan")
    return (
        depth,
        snr,
        n_tr,
        significance(d_odd, e_odd, d_even, e_even),
        (d_odd, e_odd, d_even, e_even),
    )


def refine(time, flux, period, duration, *, step, oversample=10, n_periods=41):
    """Refine a BLS peak on a fine local grid: +-2 coarse steps in period, 0.5-2x in duration.

    Returns (period, epoch, duration, depth) of the best fine box, days and flux units.
    """
    periods = period * np.geomspace(1 / (1 + 2 * step), 1 + 2 * step, n_periods)
    durations = np.geomspace(0.5 * duration, min(2 * duration, 0.45 * periods.min()), 9)
    res = bls(time, flux, periods, durations, oversample=oversample)
    i = res.best
    return float(res.periods[i]), float(res.epoch[i]), float(res.duration[i]), float(res.depth[i])


def resolve_half_period(time, flux, period, epoch, duration, *, threshold=3.0, min_ratio=0.1):
    """Return (period, epoch, doubled): 2P when alternate events at P differ in depth.

    At the doubled period the two event families are 'odd' and 'even'; if their depths differ
    by more than ``threshold`` sigma and by more than ``min_ratio`` of the deeper one (deep,
    high-SNR transits differ by a few sigma from timing and systematics alone), the BLS period
    was half the true one and the epoch becomes the deeper event's.
    """
    if time.max() - time.min() < 2 * period:
        return period, epoch, False
    _, _, _, sigma, (d_odd, _, d_even, _) = _measure(time, flux, period, epoch, duration)
    deeper = max(d_odd, d_even)
    if not (np.isfinite(sigma) and sigma > threshold and abs(d_odd - d_even) > min_ratio * deeper):
        return period, epoch, False
    return 2 * period, (epoch if d_odd >= d_even else epoch + period), True


def search(
    time: np.ndarray,
    flux: np.ndarray,
    periods: np.ndarray,
    durations: np.ndarray,
    *,
    max_signals: int = 3,
    min_sde: float = 6.0,
    min_snr: float = 7.0,
    mask_durations: float = 3.0,
    oversample: int = 3,
) -> list[Signal]:
    """Iterative BLS search of a flattened light curve.

    Parameters
    ----------
    time, flux : ndarray, shape (n,)
        Finite times (days) and flattened fluxes (about 1).
    periods, durations : ndarray
        Trial grid, days.
    max_signals : int
        Stop after this many signals.
    min_sde, min_snr : float
        A peak below either threshold ends the search.
    mask_durations : float
        Width, in durations, of the window masked around each found event before the next round.
    oversample : int
        BLS phase cells per shortest duration.

    Returns
    -------
    list of Signal
        Strongest first. A peak at the period of an earlier signal (its secondary eclipse) is
        masked but not reported again.
    """
    keep = np.ones(time.size, dtype=bool)
    found: list[Signal] = []
    step = float(np.median(np.diff(np.log(periods)))) if periods.size > 1 else 1e-3
    for _ in range(max_signals + 2):
        if len(found) >= max_signals or keep.sum() < 10:
            break
        t, f = time[keep], flux[keep]
        res = bls(t, f, periods, durations, oversample=oversample)
        peak_sde = sde(res.power)
        i = res.best
        if peak_sde < min_sde or not np.isfinite(res.epoch[i]):
            break
        p, t0, dur, _ = refine(t, f, res.periods[i], res.duration[i], step=step)
        p2, t02, dur2, doubled = p, t0, dur, False
        p_half, _, doubled = resolve_half_period(t, f, p, t0, dur)
        if doubled:  # re-centre on the deeper event family at the true period
            p2, t02, dur2, _ = refine(t, f, p_half, dur, step=step / 2)
        depth, snr, n_tr, oe, _ = _measure(t, f, p2, t02, dur2)
        if not (snr >= min_snr):
            break
        keep &= np.abs(fold(time, p, t0)) > 0.5 * mask_durations * dur
        if any(abs(s.period / p2 - 1) < 2e-3 for s in found):
            continue
        found.append(Signal(p2, t02, dur2, depth, snr, peak_sde, n_tr, oe, doubled))
    return found
