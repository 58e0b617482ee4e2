"""The transit search as the site runs it: search preset, detrending, grid, thresholds, vetting.

One round: detrend with the found transits masked (:func:`detrend.search_trend`, window about
three times the longest duration searched), run the periodogram (our BLS, or TLS) over an Ofir
grid whose trial durations scale with period for the star (:mod:`grid`), take the strongest
peak with at least ``min_transits`` transits that have data, refine it, check P vs P/2 (and
P/k: a peak can fold only the transits noise deepened), measure its depth and a red-noise-aware
SNR with each transit fitted against its own quadratic baseline (:func:`significance.local_box_fit`),
and run the per-event, odd/even, secondary and duration checks on a series detrended again with
its transits masked. A candidate below the preset's SDE or SNR threshold ends the search; one
above it is recorded, masked, and the next round begins.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from .bls import bls
from .detection import CLEARED, SearchPreset, get_search_preset, passes, vetoes
from .detrend import SearchTrend, search_trend
from .diagnostics import robust_sigma, tce_diagnostics
from .errors import InsufficientData, InvalidInput
from .grid import DurationLaw, chunk_durations, ofir_periods, period_chunks
from .search import Signal, refine, resolve_half_period
from .significance import asymmetry, event_depths, local_box_fit, red_noise_snr
from .views import fold

CANDIDATE_KEYS = (
    "period", "epoch", "duration", "sde", "snr", "n_transits", "rotation", "rest", "shortfall",
    "odd_even", "asym_sigma", "asym_frac", "duration_ratio", "depth",
)
"""What the run summary keeps of each round's candidates (the benchmark replays them at other
thresholds, :func:`replay`)."""

MASK_HALF_WIDTH = 1.5
"""Half-width, in durations, of the window masked around each found transit."""


def rotation(time: np.ndarray, flux: np.ndarray) -> tuple[float, float, float, float]:
    """(period, semi-amplitude, point sigma, semi-amplitude of the first harmonic) of the
    strongest sinusoid of a normalised series.

    Lomb-Scargle over 0.1-30 d (astropy's fast method) of the cadences within 3 robust
    sigma below the median (eclipses and deep transits are not rotation); the point sigma is
    the MAD of point-to-point differences / sqrt(2), blind to the rotation itself.
    """
    from astropy.timeseries import LombScargle

    span = float(time.max() - time.min())
    sigma = robust_sigma(np.diff(flux)) / np.sqrt(2) if flux.size > 2 else float("nan")
    if flux.size < 20 or span < 0.5:
        return float("nan"), 0.0, sigma, 0.0
    keep = np.ones(flux.size, dtype=bool)
    for _ in range(2):
        med = float(np.median(flux[keep]))
        keep = flux > med - 3 * robust_sigma(flux[keep])
    time, flux = time[keep], flux[keep]
    ls = LombScargle(time, flux - np.median(flux))
    freq, power = ls.autopower(
        minimum_frequency=1 / min(30.0, span), maximum_frequency=4.0, samples_per_peak=3
    )
    f = float(freq[np.argmax(power)])
    amp = float(np.hypot(*ls.model_parameters(f)[1:3]))
    amp2 = float(np.hypot(*ls.model_parameters(2 * f)[1:3]))  # spots are not sinusoids
    return 1.0 / f, amp, sigma, amp2


def search_window(
    preset: SearchPreset, longest: float, rot: tuple[float, float, float, float], cadence: float
) -> float:
    """Detrending window, days: ``window_factor`` x the longest duration, shortened for rotation.

    The twiced biweight leaves ``(1 - sinc(w / P_rot))**2`` of a rotation of amplitude A; for
    a clear rotation (A above 8 point sigmas) the window shrinks (by 10 % steps) until that
    residual is below the white noise over one duration (w / window_factor), and a strongly
    rotating star (A above ``rotation_snr`` point sigmas: its spots have harmonics and evolve)
    gets at most ``rotation_fraction`` x P_rot.
    """
    w = preset.window_factor * longest
    p_rot, amp, sigma, amp2 = rot
    if np.isfinite(p_rot) and sigma > 0 and amp > 8 * sigma:
        if amp > preset.rotation_snr * sigma:
            w = min(w, preset.rotation_fraction * p_rot)
        while w > preset.min_window:
            x = w / p_rot  # np.sinc(x) = sin(pi x) / (pi x); the harmonic at 2 x
            residual = (1.0 - np.sinc(x)) ** 2 * amp + (1.0 - np.sinc(2 * x)) ** 2 * amp2
            white = sigma / np.sqrt(max(1.0, w / preset.window_factor / cadence))
            if residual <= white:
                break
            w *= 0.9
    return float(np.clip(w, preset.min_window, preset.max_window))


def _sde(score: np.ndarray) -> np.ndarray:
    """SDE of every trial: the score minus its running median (over 1 % of the grid, at least
    101 trials; the BLS score rises towards long periods), over the spectrum's std."""
    k = max(101, score.size // 100) | 1
    if score.size > k:
        from scipy.ndimage import median_filter

        s = score - median_filter(score, size=k, mode="nearest")
    else:
        s = score - np.median(score)
    std = float(np.std(s))
    return (s - s.mean()) / std if std > 0 else np.zeros_like(s)


@dataclass(frozen=True, eq=False)
class Periodogram:
    """Per trial period: the SDE, the raw score (BLS: sqrt(2 x likelihood power), which grows
    with the depth's SNR), and the best box's epoch and duration (days)."""

    periods: np.ndarray
    sde: np.ndarray
    epoch: np.ndarray
    duration: np.ndarray
    score: np.ndarray


def bls_periodogram(t, f, periods, law: DurationLaw) -> Periodogram:
    """Our BLS over ``periods``, each chunk (a factor 1.25 of period) with its own durations."""
    power = np.empty(periods.size)
    epoch = np.empty(periods.size)
    dur = np.empty(periods.size)
    for sl in period_chunks(periods):
        p = periods[sl]
        durs = chunk_durations(law, float(p[0]), float(p[-1]))
        durs = durs[durs < p[0]]
        if durs.size == 0:
            power[sl], epoch[sl], dur[sl] = 0.0, np.nan, np.nan
            continue
        res = bls(t, f, p, durs, oversample=3)
        power[sl], epoch[sl], dur[sl] = res.power, res.epoch, res.duration
    score = np.sqrt(2 * np.maximum(power, 0))
    return Periodogram(periods, _sde(score), epoch, dur, score)


def tls_periodogram(t, f, period_min, period_max, density, law: DurationLaw) -> Periodogram:
    """TLS's periodogram (its own grid; stellar radius and mass from the density)."""
    try:
        from transitleastsquares import transitleastsquares
    except ImportError as exc:  # pragma: no cover - the dev/bench extras install it
        raise InvalidInput("the tls engine needs the transitleastsquares package") from exc
    rho = density if density else 1.0
    radius = rho ** (-1 / 1.75)  # main-sequence-like R ~ M^0.8, so rho = M / R^3 ~ R^-1.75
    mass = rho * radius**3
    model = transitleastsquares(t, f)
    r = model.power(
        period_min=period_min, period_max=period_max, R_star=radius, M_star=mass,
        R_star_min=0.1, R_star_max=max(3.0, radius), M_star_min=0.05, M_star_max=max(3.0, mass),
        oversampling_factor=3, duration_grid_step=1.1, use_threads=1,
        show_progress_bar=False, verbose=False, n_transits_min=2,
    )
    periods = np.asarray(r.periods, dtype=np.float64)
    order = np.argsort(periods)
    sde = np.asarray(r.power, dtype=np.float64)[order]
    epoch = np.full(periods.size, np.nan)
    duration = np.full(periods.size, np.nan)
    best = int(np.argmin(np.abs(periods[order] - r.period)))
    epoch[best], duration[best] = r.T0, r.duration
    return Periodogram(periods[order], sde, epoch, duration, sde)


def _peaks(pg: Periodogram, t, f, min_transits: int, count: int) -> list[int]:
    """The ``count`` strongest distinct peaks (indices; periods 1 % apart) by SDE and the
    ``count`` strongest by raw score, each with ``min_transits`` transits with data.

    Both rankings: the SDE subtracts a running median of the spectrum, which over sectors
    years apart (a dense comb of aliases sharing one transit) can lower the true alias below
    its neighbours; the raw score does not.
    """
    out: list[int] = []
    for values in (pg.sde, pg.score):
        seen: list[float] = []
        taken = 0
        for i in np.argsort(values)[::-1][: 100 * count]:
            p = pg.periods[i]
            if not np.isfinite(pg.epoch[i]) or any(abs(p / s - 1) < 0.01 for s in seen):
                continue
            seen.append(p)
            *_, n_tr = red_noise_snr(t, f, p, pg.epoch[i], pg.duration[i])
            if n_tr >= min_transits:
                if not any(abs(p / pg.periods[j] - 1) < 1e-4 for j in out):
                    out.append(int(i))
                taken += 1
                if taken >= count:
                    break
    return out


def _plain_num(v):
    return bool(v) if isinstance(v, (bool, np.bool_)) else (int(v) if isinstance(v, (int, np.integer)) else float(v))


def _at_rotation(period: float, rot: tuple[float, float, float, float], p: SearchPreset) -> bool:
    """Whether ``period`` is the star's clear rotation (amplitude above 8 point sigmas) or half
    or twice it, within 3 %: the residual of spots the detrending left, not a transit."""
    p_rot, amp, sigma, _ = rot
    if not (np.isfinite(p_rot) and sigma > 0 and amp > 8 * sigma):
        return False
    return any(abs(period / (k * p_rot) - 1) < 0.03 for k in (0.5, 1.0, 2.0))


@dataclass(frozen=True)
class SearchOptions:
    """What a caller chooses for one search.

    Attributes
    ----------
    preset : str or SearchPreset
    density : float, optional
        Stellar density, solar units (``grid.stellar_density``); a broad range when None.
    period_min, period_max : float
        Days; ``period_max`` defaults to half the time span (two transits).
    n_periods : int, optional
        A log-spaced grid of this many periods instead of the Ofir grid.
    max_signals : int
        Stop after this many signals.
    min_sde, min_snr : float, optional
        Override the preset's thresholds.
    """

    preset: str | SearchPreset = "gaia"
    density: float | None = None
    period_min: float = 0.5
    period_max: float | None = None
    n_periods: int | None = None
    max_signals: int = 3
    min_sde: float | None = None
    min_snr: float | None = None


@dataclass(frozen=True)
class _Thresholds:
    """SDE and SNR a detection needs (``snr_two``: with only two transits with data)."""

    sde: float
    snr: float
    snr_two: float

    @classmethod
    def of(cls, p: SearchPreset, options: SearchOptions) -> _Thresholds:
        snr = p.min_snr if options.min_snr is None else options.min_snr
        two = p.min_snr_two if options.min_snr is None else max(snr, p.min_snr_two - p.min_snr + snr)
        return cls(p.min_sde if options.min_sde is None else options.min_sde, snr, two)


@dataclass(frozen=True, eq=False)
class _Plan:
    """What the rounds share: period range and grid, duration law, rotation, window, step."""

    period_max: float
    periods: np.ndarray
    law: DurationLaw
    rot: tuple[float, float, float, float]
    window: float
    step: float

    @classmethod
    def of(cls, time: np.ndarray, flux: np.ndarray, p: SearchPreset, options: SearchOptions) -> _Plan:
        span = float(time.max() - time.min())
        pmax = span / 2 if options.period_max is None else float(options.period_max)
        if not (0 < options.period_min < pmax):
            raise InvalidInput(
                f"period_max {pmax:.3g} d must exceed period_min {options.period_min:.3g} d "
                f"(span {span:.3g} d)"
            )
        cadence = float(np.median(np.diff(time)))
        law = DurationLaw.for_star(
            options.density, q_min=p.q_min, q_max=p.q_max, min_duration=max(0.5 / 24, cadence)
        )
        rot = rotation(time, flux)
        window = search_window(p, float(law.bounds(pmax)[1]), rot, cadence)
        law = replace(law, max_duration=min(law.max_duration, window / p.window_factor))
        if options.n_periods is None:
            density = options.density if options.density else 1.0
            periods = ofir_periods(options.period_min, pmax, span, density, p.period_oversample)
        else:
            periods = np.geomspace(options.period_min, pmax, max(int(options.n_periods), 2))
        step = float(np.median(np.diff(np.log(periods)))) if periods.size > 1 else 1e-3
        return cls(pmax, periods, law, rot, window, step)


@dataclass(eq=False)
class _State:
    """The series searched and what the rounds so far found (and masked) in it."""

    time: np.ndarray
    flux: np.ndarray
    bounds: np.ndarray
    edges: np.ndarray
    trend: SearchTrend
    found_mask: np.ndarray
    found: list[Signal]

    def raw(self) -> tuple[np.ndarray, np.ndarray]:
        """Time and normalised (not detrended) flux without found transits, flares and edges."""
        ok = ~(self.found_mask | self.trend.flares | self.edges)
        return self.time[ok], self.flux[ok]

    def kept(self, trend: SearchTrend) -> tuple[np.ndarray, np.ndarray]:
        """Time and flattened flux without found transits, flares and segment edges."""
        ok = ~(self.found_mask | trend.flares | self.edges)
        return self.time[ok], self.flux[ok] / trend.trend[ok]


def _candidate(state: _State, plan: _Plan, t, f, pg: Periodogram, i: int) -> dict:
    """Refine peak ``i``, check P vs P/2 and P/k, measure depth and SNR against per-transit
    quadratic baselines, and run the checks on the series detrended again with its transits kept
    out of the trend (so the trend does not eat part of their depth)."""
    per, t0, dur, _ = refine(t, f, pg.periods[i], pg.duration[i], step=plan.step)
    doubled = False
    for _ in range(2):  # an EB's BLS peak can sit at P/2 or, when it folds on P/4, at P/4
        per2, _, again = resolve_half_period(t, f, per, t0, dur)
        if not again:
            break
        doubled = True
        per, t0, dur, _ = refine(t, f, per2, dur, step=plan.step / 2)
    reach = max(plan.window / 2, 2 * dur)
    if doubled:
        fit = local_box_fit(*state.raw(), per, t0, dur, reach=reach)
    else:
        per, fit = _fundamental(state, plan, per, t0, dur, reach)
    mask = np.abs(fold(state.time, per, t0)) < MASK_HALF_WIDTH * dur
    # the flares clipped from the whole series stay clipped: no clipping passes here
    flares = state.trend.flares
    re = search_trend(
        state.time, state.flux, window_days=plan.window, bounds=state.bounds,
        mask=state.found_mask | mask | flares, clip_iters=0,
    )  # fmt: skip
    re = replace(re, flares=flares)
    tm, fm = state.kept(re)
    _, _, sigma_d, n_tr = red_noise_snr(tm, fm, per, t0, dur)
    depth, snr, _ = fit
    asym_sigma, asym_frac = asymmetry(tm, fm, per, t0, dur, sigma_d)
    rest, shortfall, odd_even = event_depths(tm, fm, per, t0, dur, sigma_d)
    return {
        "period": per, "epoch": t0, "duration": dur, "doubled": doubled, "sde": float(pg.sde[i]),
        "depth": depth, "snr": snr if np.isfinite(snr) else -np.inf, "n_transits": n_tr,
        "rest": rest, "shortfall": shortfall, "odd_even": odd_even, "asym_sigma": asym_sigma,
        "asym_frac": asym_frac, "duration_ratio": plan.law.plausible(per, dur), "trend": re,
        "mask": mask,
    }


def _fundamental(
    state: _State, plan: _Plan, per: float, t0: float, dur: float, reach: float
) -> tuple[float, tuple[float, float, int]]:
    """The shortest period P / k (k = 2..5, within the grid) whose extra epochs hold the same
    transit, and its ``local_box_fit``: a peak can fold every k-th transit when noise makes
    those few look deeper. A true period P / k has an SNR about sqrt(k) times P's, an alias
    of P about 1 / sqrt(k) times, so the one with the higher SNR is taken."""
    t, f = state.raw()
    best, best_fit = per, local_box_fit(t, f, per, t0, dur, reach)
    if not np.isfinite(best_fit[1]):
        return best, best_fit
    for k in range(2, 6):
        p = per / k
        if p < plan.periods[0] or dur >= p / 2:
            break
        fit = local_box_fit(t, f, p, t0, dur, reach)
        if np.isfinite(fit[1]) and fit[1] > best_fit[1]:
            best, best_fit = p, fit
    return best, best_fit


def run_search(
    time: np.ndarray,
    flux: np.ndarray,
    bounds: np.ndarray,
    options: SearchOptions = SearchOptions(),
    *,
    on_round: Callable[[int], None] | None = None,
    until: Callable[[list[Signal]], bool] | None = None,
) -> tuple[list[Signal], dict]:
    """Iterative transit search of a cleaned, normalised series (not yet detrended).

    Parameters
    ----------
    time, flux : ndarray, shape (n,)
        Sorted finite times (days) and fluxes normalised per segment (about 1).
    bounds : ndarray of int
        Segment bounds (``cleaning.segment_bounds``).
    options : SearchOptions
        Preset, stellar density, period range and grid, number of signals, thresholds.
    on_round : callable, optional
        Called with the round number before each periodogram (progress, cancellation).
    until : callable, optional
        Stop as soon as this is true of the signals found so far (an injection-recovery run
        stops once the planted signal is found: later rounds cannot change that outcome).

    Returns
    -------
    (list of Signal, dict)
        Signals strongest first, and a summary of the run (window, grid size, density, the
        first rejected candidate's SDE and SNR, and every round's measured candidates in
        ``rounds``: with the thresholds lifted, a benchmark replays the rounds at any
        thresholds, see ``replay``).
    """
    p = get_search_preset(options.preset)
    limits = _Thresholds.of(p, options)
    plan = _Plan.of(time, flux, p, options)
    summary = _summary(p, options, plan, limits)
    state = _State(
        time, flux, bounds, segment_edges(time, bounds, p.edge_days),
        search_trend(time, flux, window_days=plan.window, bounds=bounds),
        np.zeros(time.size, dtype=bool), [],
    )  # fmt: skip
    for rnd in range(options.max_signals + p.extra_rounds):
        if len(state.found) >= options.max_signals:
            break
        if on_round:
            on_round(rnd)
        cands = _round_candidates(state, plan, p, limits, options)
        if not cands:
            break
        summary["rounds"].append([{k: _plain_num(c[k]) for k in CANDIDATE_KEYS} for c in cands])
        # the strongest (masked SNR) of the peaks that pass; else a strong one that a veto
        # stopped is masked and the search goes on; else the search ends
        best = max(cands, key=lambda c: (c["passes"], c["snr"]))
        if best["passes"]:
            state.found.append(_signal(state, best))
            state.found_mask |= best["mask"]
            state.trend = best["trend"]
            if until is not None and until(state.found):
                break
        elif not _mask_vetoed(state, cands, p, limits, summary):
            summary["rejected"] = {
                "period": best["period"], "sde": best["sde"], "snr": best["snr"],
                "n_transits": best["n_transits"], "vetoes": best["vetoes"],
            }  # fmt: skip
            break
    summary["candidates"] = summary["rounds"][0] if summary["rounds"] else []
    return state.found, summary


def _summary(p: SearchPreset, options: SearchOptions, plan: _Plan, limits: _Thresholds) -> dict:
    """The run summary before any round: what was searched and with which thresholds."""
    return {
        "preset": p.name, "engine": p.engine, "window_days": plan.window,
        "n_periods": int(plan.periods.size), "density": options.density,
        "rotation_period": plan.rot[0], "rotation_amplitude": plan.rot[1],
        "min_sde": limits.sde, "min_snr": limits.snr, "min_snr_two": limits.snr_two,
        "rejected": None, "candidates": [], "rounds": [], "vetoed": [],
    }  # fmt: skip


def _round_candidates(
    state: _State, plan: _Plan, p: SearchPreset, limits: _Thresholds, options: SearchOptions
) -> list[dict]:
    """One round's periodogram peaks, measured, vetted and checked against the thresholds
    (none when too few cadences are left)."""
    t, f = state.kept(state.trend)
    if t.size < 20:
        return []
    if p.engine == "tls":
        pg = tls_periodogram(t, f, options.period_min, plan.period_max, options.density, plan.law)
    else:
        pg = bls_periodogram(t, f, plan.periods, plan.law)
    cands = [
        _candidate(state, plan, t, f, pg, i)
        for i in _peaks(pg, t, f, p.min_transits, p.peaks_examined)
    ]
    for c in cands:
        c["rotation"] = _at_rotation(c["period"], plan.rot, p)
        c["vetoes"] = vetoes(c, p)
        c["passes"] = passes(c, p, limits.sde, limits.snr, limits.snr_two)
    return cands


def _mask_vetoed(
    state: _State, cands: list[dict], p: SearchPreset, limits: _Thresholds, summary: dict
) -> bool:
    """Mask the strongest candidate that only a veto stopped (recorded in the summary), so
    the search goes on; False when there is none."""
    strong = [
        c for c in cands
        if c["vetoes"] and passes({**c, **CLEARED}, p, limits.sde, limits.snr, limits.snr_two)
    ]  # fmt: skip
    if not strong:
        return False
    veto = max(strong, key=lambda c: c["snr"])
    summary["vetoed"].append({"period": veto["period"], "snr": veto["snr"], "why": veto["vetoes"]})
    state.found_mask |= veto["mask"]
    return True


def _signal(state: _State, best: dict) -> Signal:
    """A detected candidate as a Signal, with odd/even and secondary measured on its trend."""
    per, t0, dur = best["period"], best["epoch"], best["duration"]
    diag = tce_diagnostics(*state.kept(best["trend"]), per, t0, dur)
    return Signal(
        period=per, epoch=t0, duration=dur, depth=best["depth"], snr=best["snr"],
        sde=best["sde"], n_transits=best["n_transits"], doubled=best["doubled"],
        odd_even_sigma=float(diag["odd_even_sigma"]),
        secondary_sigma=float(diag["secondary_sigma"]),
        duration_ratio=best["duration_ratio"],
        odd_even_flag=bool(diag["odd_even_flag"]),
        secondary_flag=bool(diag["secondary_flag"]),
        duration_flag=best["duration_ratio"] != 1.0,
    )  # fmt: skip


def segment_edges(time: np.ndarray, bounds: np.ndarray, days: float) -> np.ndarray:
    """True for cadences within ``days`` of their segment's first or last cadence (segments
    shorter than four times that are kept whole)."""
    edge = np.zeros(time.size, dtype=bool)
    for a, e in zip(bounds[:-1], bounds[1:], strict=True):
        if e - a < 2 or time[e - 1] - time[a] < 4 * days:
            continue
        edge[a:e] = (time[a:e] - time[a] < days) | (time[e - 1] - time[a:e] < days)
    return edge


def check_series(time: np.ndarray, flux: np.ndarray) -> None:
    """The search needs at least 20 cadences spanning more than a day."""
    if time.size < 20 or float(time.max() - time.min()) <= 1.0:
        raise InsufficientData("too few cadences to search: need 20 spanning more than a day")
