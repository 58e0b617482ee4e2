"""How significant and how transit-like a box signal is: red-noise SNR and per-event checks.

All take a flattened series (flux about 1, days) and a box ephemeris (period, epoch, duration in
days); depths are ``baseline - mean(in-box flux)`` with the baseline the median more than one
duration from the box.
"""

from __future__ import annotations

import numpy as np

from .diagnostics import robust_sigma, transit_numbers
from .spline.select import median
from .views import fold


def red_noise_snr(
    time: np.ndarray, flux: np.ndarray, period: float, epoch: float, duration: float
) -> tuple[float, float, float, int]:
    """(depth, snr, sigma_D, transits with data) of a box, with red noise counted.

    ``sigma_D`` is the robust scatter of running means over one duration of the out-of-transit
    flux (the "CDPP" at the transit's timescale), so residual stellar variability counts; SNR
    = depth sqrt(N) / sigma_D with N the in-transit cadences in units of one transit's worth.
    A transit counts as having data with at least a third of its expected cadences.
    """
    phase = fold(time, period, epoch)
    inside = np.abs(phase) < duration / 2
    out = np.abs(phase) > duration
    if inside.sum() < 2 or out.sum() < 10:
        return float("nan"), float("nan"), float("nan"), 0
    cadence = float(np.median(np.diff(time)))
    per_transit = max(1.0, duration / cadence)
    base = median(flux[out])
    depth = float(base - flux[inside].mean())
    k = int(round(per_transit))
    x = flux[out] - base
    if x.size > k + 10:
        sigma_d = running_mean_scatter(x, k)
    else:
        sigma_d = robust_sigma(x) / np.sqrt(per_transit)
    sigma_d = max(sigma_d, robust_sigma(x) / np.sqrt(per_transit))  # never below white noise
    numbers, counts = np.unique(transit_numbers(time[inside], period, epoch), return_counts=True)
    n_tr = int((counts >= per_transit / 3).sum())
    snr = depth * np.sqrt(inside.sum() / per_transit) / sigma_d if sigma_d > 0 else float("nan")
    return depth, float(snr), float(sigma_d), n_tr

def running_mean_scatter(x: np.ndarray, k: int) -> float:
    """Robust scatter of the means of ``k`` consecutive values: the noise on a transit's
    timescale, red noise included ("CDPP" over ``k`` cadences)."""
    c = np.concatenate(([0.0], np.cumsum(x)))
    return robust_sigma((c[k:] - c[:-k]) / k)


def event_depths(
    time: np.ndarray, flux: np.ndarray, period: float, epoch: float, duration: float, sigma_d: float
) -> tuple[float, float, float]:
    """Consistency of the individual transits: (rest fraction, median-depth shortfall in sigma,
    odd/even difference in sigma).

    The rest fraction is the SNR without the strongest transit over ``SNR sqrt((N - 1) / N)``
    (1 for equal transits, near 0 when one event carries the signal; NaN with fewer than two).
    The shortfall is how far the median of the per-transit depths lies below half the mean
    depth, in units of the median's error (a few deep events among empty epochs: > 0). The
    odd/even difference (sigma) uses the mean depths of odd and even transit numbers and counts
    only when they differ by half the depth (red noise makes a few sigma cheap at high SNR).
    """
    nan = float("nan")
    phase = fold(time, period, epoch)
    inside = np.abs(phase) < duration / 2
    out = np.abs(phase) > duration
    if inside.sum() < 2 or out.sum() < 10 or not sigma_d > 0:
        return nan, nan, nan
    base = median(flux[out])
    numbers = transit_numbers(time[inside], period, epoch)
    seen, which = np.unique(numbers, return_inverse=True)
    if seen.size < 2:
        return nan, nan, nan
    cadence = float(np.median(np.diff(time)))
    per_transit = max(1.0, duration / cadence)
    deficit = np.bincount(which, weights=base - flux[inside], minlength=seen.size)
    counts = np.bincount(which, minlength=seen.size).astype(float)
    depths = deficit / counts
    errors = sigma_d / np.sqrt(counts / per_transit)
    rest = rest_fraction(deficit, counts, per_transit, sigma_d)
    mean = deficit.sum() / counts.sum()
    shortfall = (0.5 * mean - np.median(depths)) / (1.25 * np.median(errors) / np.sqrt(seen.size))
    odd = seen % 2 == 0
    if odd.any() and (~odd).any():
        d_odd = deficit[odd].sum() / counts[odd].sum()
        d_even = deficit[~odd].sum() / counts[~odd].sum()
        e_odd = sigma_d / np.sqrt(counts[odd].sum() / per_transit)
        e_even = sigma_d / np.sqrt(counts[~odd].sum() / per_transit)
        oe = abs(d_odd - d_even) / np.hypot(e_odd, e_even) if abs(d_odd - d_even) > 0.5 * abs(mean) else 0.0
    else:
        oe = nan
    return rest, float(shortfall) if seen.size >= 3 else nan, float(oe)

def rest_fraction(deficit: np.ndarray, counts: np.ndarray, per_transit: float, sigma_d: float) -> float:
    """SNR without the strongest transit over ``SNR sqrt((N - 1) / N)`` (see ``event_depths``)."""
    snr_k = deficit / np.sqrt(counts / per_transit) / per_transit / sigma_d  # per-event SNR
    total = deficit.sum() / np.sqrt(counts.sum() / per_transit) / per_transit / sigma_d
    k = int(np.argmax(snr_k))
    rest_def, rest_n = deficit.sum() - deficit[k], counts.sum() - counts[k]
    if rest_n <= 0 or not total > 0:
        return float("nan")
    rest = rest_def / np.sqrt(rest_n / per_transit) / per_transit / sigma_d
    n_eff = counts.sum() / per_transit
    expected = total * np.sqrt(max(n_eff - 1, 1e-9) / n_eff) if n_eff > 1 else total
    return float(rest / expected) if expected > 0 else float("nan")

def asymmetry(time, flux, period, epoch, duration, sigma_d) -> tuple[float, float]:
    """(sigma, fraction of the depth) by which the first and second halves of the box differ."""
    phase = fold(time, period, epoch)
    out = np.abs(phase) > duration
    first = (phase > -duration / 2) & (phase < 0)
    second = (phase >= 0) & (phase < duration / 2)
    if first.sum() < 2 or second.sum() < 2 or out.sum() < 10 or not sigma_d > 0:
        return 0.0, 0.0
    base = median(flux[out])
    cadence = float(np.median(np.diff(time)))
    half = max(1.0, 0.5 * duration / cadence)
    d1, d2 = base - flux[first].mean(), base - flux[second].mean()
    err = sigma_d * np.sqrt(2.0) * np.hypot(1 / np.sqrt(first.sum() / half), 1 / np.sqrt(second.sum() / half))
    depth = 0.5 * (d1 + d2)
    return float(abs(d1 - d2) / err), float(abs(d1 - d2) / depth) if depth > 0 else 0.0


def local_box_fit(
    time: np.ndarray, flux: np.ndarray, period: float, epoch: float, duration: float, reach: float
) -> tuple[float, float, int]:
    """(depth, snr, transits fitted) of a box with each transit's own polynomial baseline.

    Every transit is fitted on its own, flux = a + b x + c x^2 - depth_n box(x) over
    ``|x| < duration / 2 + reach`` (x = time from its centre, the box ``|x| < duration / 2``),
    with data needed in the box and on at least one side of it (a transit beside a data gap
    counts, with the weight its extrapolated baseline earns); the depths are combined with
    their weights.
    The quadratic term is kept only when the transits' curvatures are significant together
    (a chi-square test at about 3 sigma, :func:`_curved`): on a quiet star a line suffices, and a
    quadratic would cost 15-30 % of the SNR (its x^2 column resembles the box). The error counts
    the baseline's own uncertainty (a polynomial extrapolated under the box is not exact) and
    red noise: the white scatter of the residuals is scaled by how much more their running means
    over one duration scatter than white noise would.

    Why not a trend fitted with the transits masked: on a spotted star the trend bridged
    across each masked transit follows whatever the flux did at its two ends, and the dips a
    periodogram picks out of noise come out twice as deep as they are.
    """
    x = fold(time, period, epoch)
    use = np.abs(x) < duration / 2 + reach
    if use.sum() < 10:
        return float("nan"), float("nan"), 0
    x, y = x[use], flux[use]
    seen, which = np.unique(transit_numbers(time[use], period, epoch), return_inverse=True)
    cadence = float(np.median(np.diff(time)))
    per_box = max(1.0, duration / cadence)
    fit = _TransitFits(x, y, duration / 2, which, seen.size, per_box)
    if not fit.ok.any():
        return float("nan"), float("nan"), 0
    coef, inv, resid = fit.solve((1.0, x, x * x, -fit.box))
    sigma = robust_sigma(resid)
    if not _curved(coef, inv, sigma):
        coef, inv, resid = fit.solve((1.0, x, -fit.box))
        sigma = robust_sigma(resid)
    if coef.shape[0] == 0:
        return float("nan"), float("nan"), 0
    unit_var = inv[:, -1, -1]
    k = int(round(per_box))
    if resid.size > k + 10 and k > 1:
        beta = max(1.0, running_mean_scatter(resid, k) * np.sqrt(k) / sigma) if sigma > 0 else 1.0
    else:
        beta = 1.0
    weights = 1.0 / unit_var
    depth = float(np.sum(coef[:, -1] * weights) / weights.sum())
    error = beta * sigma / np.sqrt(weights.sum())
    return depth, float(depth / error) if error > 0 else float("nan"), int(coef.shape[0])


class _TransitFits:
    """Least-squares fits of every transit on its own (``which``: the transit of each cadence),
    for the transits with enough data in the box and beside it on at least one side (``ok``)."""

    def __init__(self, x, y, half, which, n, per_box):
        self.x, self.y, self.which, self.n = x, y, which, n
        self.box = (np.abs(x) < half).astype(float)
        need = max(3, per_box / 3)
        left, right = self._sum((x < -half) * 1.0), self._sum((x > half) * 1.0)
        # a transit beside a gap keeps its one flank: the baseline extrapolated under the box is
        # less certain, and its weight says so
        self.ok = (self._sum(self.box) >= per_box / 3) & ((left >= need) | (right >= need))

    def _sum(self, weights: np.ndarray) -> np.ndarray:
        return np.bincount(self.which, weights=weights, minlength=self.n)

    def solve(self, columns) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(coefficients, inverse normal matrices, residuals) of the usable transits (the last
        column is the box's); a transit whose fit is singular is left out."""
        cols = [np.broadcast_to(np.asarray(c, dtype=np.float64), self.x.shape) for c in columns]
        m = len(cols)
        gram = np.empty((self.n, m, m))
        for i in range(m):
            for j in range(i, m):
                gram[:, i, j] = gram[:, j, i] = self._sum(cols[i] * cols[j])
        rhs = np.stack([self._sum(c * self.y) for c in cols], axis=1)
        ok = self.ok & (np.abs(np.linalg.det(gram)) > 0)
        inv = np.linalg.inv(gram[ok])
        coef = np.einsum("nij,nj->ni", inv, rhs[ok])
        fitted = np.zeros((self.n, m))
        fitted[ok] = coef
        keep = ok[self.which]
        resid = (self.y - sum(fitted[self.which, k] * cols[k] for k in range(m)))[keep]
        return coef, inv, resid


def _curved(coef: np.ndarray, inv: np.ndarray, sigma: float) -> bool:
    """Whether the transits' x^2 coefficients (quadratic fits: ``coef``, inverse normal matrices
    ``inv``, residual scatter ``sigma``) are significant together: their chi-square (white
    errors) above its expectation by 3 sigma."""
    if not sigma > 0 or coef.shape[0] == 0:
        return True
    var_c = inv[:, 2, 2] * sigma**2
    chi2 = float(np.sum(coef[:, 2] ** 2 / var_c))
    n = coef.shape[0]
    return chi2 > n + 3.0 * np.sqrt(2.0 * n)
