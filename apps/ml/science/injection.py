"""Injection-recovery: planted transits and eclipsing binaries in real and simulated noise.

* `planted_transit` — batman-package (Kreidberg 2015) quadratic limb-darkened transit, multiplied
  into a light curve.
* `planted_eclipsing_binary` — an EB caught at half its period: "odd" and "even" eclipses of
  unequal depth, plus an optional flat-bottomed secondary eclipse at phase 0.5.
* The noise they are planted into (simulated, real Kepler/TESS, inverted, scrambled) is in
  :mod:`.noise`.
* `expected_mes` — the injected signal strength in Kepler MES-like units;
  `christiansen_efficiency` — the Kepler pipeline's detection efficiency against which we plot.
* `injection_recovery`, `recall_curve`, `false_positive_rates` — the harness, written against
  ``search_fn(time, flux) -> [(period_days, epoch, duration_hours), ...]`` (the light-curve search)
  and ``classify_fn(time, flux, detection) -> probability`` (view building + CNN scoring).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import batman
import numpy as np
from scipy import ndimage, special

from .errors import InjectionError, TrainingCancelled
from .noise import (
    KEPLER_LONG_CADENCE_DAYS,
    Detection,
    clean_series,
    invert_light_curve,
    scramble_light_curve,
)

SearchFn = Callable[[np.ndarray, np.ndarray], list[Detection]]
ClassifyFn = Callable[[np.ndarray, np.ndarray, Detection], float]

# Quadratic limb darkening of a Sun-like star in the Kepler band (Claret & Bloemen 2011, approx.).
SUN_LIKE_LIMB_DARKENING = (0.40, 0.26)


def _batman_profile(
    time: np.ndarray,
    *,
    period: float,
    epoch: float,
    rp_rs: float,
    a_rs: float,
    impact: float,
    limb_darkening: Sequence[float],
    supersample: int,
    exp_time: float,
) -> np.ndarray:
    """Relative flux (n,) of one batman transit model (1 out of transit)."""
    params = batman.TransitParams()
    params.t0, params.per, params.rp, params.a = epoch, period, rp_rs, a_rs
    params.inc = float(np.degrees(np.arccos(impact / a_rs)))
    params.ecc, params.w = 0.0, 90.0
    params.limb_dark, params.u = "quadratic", list(limb_darkening)
    kwargs = {"supersample_factor": supersample, "exp_time": exp_time} if supersample > 1 else {}
    return np.asarray(
        batman.TransitModel(params, time, **kwargs).light_curve(params), dtype=np.float64
    )


def _check_orbit(period: float, rp_rs: float, a_rs: float, impact: float) -> None:
    if not period > 0:
        raise InjectionError(f"period must be positive, got {period}")
    if not 0 < rp_rs < 2:
        raise InjectionError(f"rp_rs must be in (0, 2), got {rp_rs}")
    if not a_rs > 1:
        raise InjectionError(f"a_rs must exceed 1 (orbit outside the star), got {a_rs}")
    if not 0 <= impact < 1 + rp_rs:
        raise InjectionError(f"impact must be in [0, 1 + rp_rs) to transit, got {impact}")


def a_over_rs(period: float, stellar_density: float = 1.41) -> float:
    """Scaled semi-major axis a/R* from Kepler's third law; period in days, density in g/cm^3."""
    g_cgs = 6.674e-8
    seconds = period * 86400.0
    return float((g_cgs * stellar_density * seconds**2 / (3 * np.pi)) ** (1 / 3))


def planted_transit(
    time: np.ndarray,
    *,
    period: float,
    epoch: float,
    rp_rs: float,
    impact: float = 0.3,
    a_rs: float | None = None,
    limb_darkening: Sequence[float] = SUN_LIKE_LIMB_DARKENING,
    supersample: int = 7,
    exp_time: float = KEPLER_LONG_CADENCE_DAYS,
) -> np.ndarray:
    """Relative flux (n,) of a limb-darkened planetary transit; multiply it into a light curve.

    Parameters
    ----------
    time : ndarray (n,)
        Times in days (BKJD, BTJD ...; ``epoch`` in the same system).
    period, epoch : float
        Orbital period and mid-time of one transit, days.
    rp_rs, impact : float
        Planet-to-star radius ratio and impact parameter (units of R*).
    a_rs : float, optional
        a/R*; default from ``period`` for a Sun-density star (`a_over_rs`).
    limb_darkening : (u1, u2)
        Quadratic coefficients.
    supersample, exp_time : int, float
        Integrate over the exposure (days), as Kepler long cadence smears ingress and egress.
    """
    time, _ = clean_series(time, np.ones_like(np.asarray(time, dtype=np.float64)))
    a_rs = a_over_rs(period) if a_rs is None else a_rs
    _check_orbit(period, rp_rs, a_rs, impact)
    return _batman_profile(
        time,
        period=period,
        epoch=epoch,
        rp_rs=rp_rs,
        a_rs=a_rs,
        impact=impact,
        limb_darkening=limb_darkening,
        supersample=supersample,
        exp_time=exp_time,
    )


def planted_eclipsing_binary(
    time: np.ndarray,
    *,
    period: float,
    epoch: float,
    odd_depth: float,
    even_depth: float,
    secondary_depth: float = 0.0,
    radius_ratio: float = 0.5,
    impact: float = 0.5,
    a_rs: float | None = None,
    supersample: int = 7,
    exp_time: float = KEPLER_LONG_CADENCE_DAYS,
) -> np.ndarray:
    """Relative flux (n,) of an eclipsing binary as a transit search would see it at ``period``.

    Events at ``epoch + k * period`` alternate between ``odd_depth`` (k even) and ``even_depth``
    (k odd) — the primary and secondary eclipses of a binary of period 2 ``period`` — and an
    optional ``secondary_depth`` eclipse without limb darkening sits at phase 0.5. Depths are
    fractional. The eclipse shape comes from batman with ``radius_ratio`` (a large companion gives
    V-shaped, grazing-looking eclipses) and is rescaled to each depth.
    """
    time, _ = clean_series(time, np.ones_like(np.asarray(time, dtype=np.float64)))
    if not 0 < odd_depth < 1 or not 0 < even_depth < 1 or not 0 <= secondary_depth < 1:
        raise InjectionError("eclipse depths must be fractions in (0, 1)")
    a_rs = a_over_rs(period) if a_rs is None else a_rs
    _check_orbit(period, radius_ratio, a_rs, impact)
    common = {
        "rp_rs": radius_ratio,
        "a_rs": a_rs,
        "impact": impact,
        "supersample": supersample,
        "exp_time": exp_time,
    }
    flux = 1.0 - _unit_eclipse(time, period=period, epoch=epoch, **common) * np.where(
        np.floor((time - epoch) / period + 0.5).astype(np.int64) % 2 == 0, odd_depth, even_depth
    )
    if secondary_depth > 0:
        flux -= secondary_depth * _unit_eclipse(
            time, period=period, epoch=epoch + period / 2, limb_darkening=(0.0, 0.0), **common
        )
    return flux


def _unit_eclipse(
    time: np.ndarray, *, epoch: float, limb_darkening=SUN_LIKE_LIMB_DARKENING, **kwargs
) -> np.ndarray:
    """Eclipse shape (n,) scaled to depth 1 at mid-eclipse (0 out of eclipse)."""
    shape = 1.0 - _batman_profile(time, epoch=epoch, limb_darkening=limb_darkening, **kwargs)
    peak = (
        1.0
        - _batman_profile(np.array([epoch]), epoch=epoch, limb_darkening=limb_darkening, **kwargs)[
            0
        ]
    )
    return shape / peak




def noise_on_duration(time: np.ndarray, flux: np.ndarray, duration_hours: float) -> float:
    """Noise on one transit duration (a CDPP-like fraction) that a dip of that duration cannot hide.

    At every cadence, the mean over one duration is compared with a quadratic fitted to the
    two flanks beside it (each twice the duration long, the central duration left out), as a
    search with a per-transit quadratic baseline measures a transit. The 1.4826 MAD of these
    single-event depths is divided by the filter's white-noise gain (``single_event_kernel``),
    so white noise of sigma per cadence gives sigma / sqrt(cadences per duration) whatever the
    baseline costs. Flares are taken out first (``without_flares``), as the search clips them.

    Why not a running-median high-pass: on a star whose flux rises or falls steeply (a spotted
    star's rotation), the median of a window follows the data sample by sample and takes most
    of an hours-long dip with it (86 % of a 2-h dip on AU Mic, TESS sector 95), so the noise it
    leaves, and every MES scaled by it, is far too optimistic. Assumes a roughly uniform
    cadence (a kernel spanning a gap mixes the two sides; the MAD is robust to the few such
    cadences).
    """
    time, flux = clean_series(time, flux)
    cadence = float(np.median(np.diff(time)))
    n_dur = max(int(round(duration_hours / 24.0 / cadence)), 1)
    kernel = single_event_kernel(n_dur)
    if flux.size < kernel.size + 10:
        raise InjectionError("too few cadences to measure the noise on this duration")
    flux = without_flares(flux / np.median(flux), max(int(round(1.0 / 24.0 / cadence)), 2))
    depths = ndimage.correlate1d(flux, kernel, mode="nearest")
    half = kernel.size // 2
    depths = depths[half:-half]  # edges: the flanks would be cut
    mad = 1.4826 * float(np.median(np.abs(depths - np.median(depths))))
    return mad / (np.sqrt(n_dur) * float(np.sqrt(np.sum(kernel**2))))


def without_flares(flux: np.ndarray, short: int, clip_sigma: float = 3.0) -> np.ndarray:
    """``flux`` with upward outliers (flares, and one cadence either side) replaced by a running
    median over ``short`` cadences (about an hour: short enough to follow a spotted star's
    slope, long enough to step over a flare's peak); dips are left alone."""
    size = short | 1
    smooth = ndimage.median_filter(flux, size=size, mode="nearest")
    resid = flux - smooth
    sigma = 1.4826 * float(np.median(np.abs(np.diff(flux)))) / np.sqrt(2.0)
    flare = ndimage.binary_dilation(resid > clip_sigma * sigma, iterations=1)
    return np.where(flare, smooth, flux)


def single_event_kernel(n_dur: int, flank_durations: float = 2.0) -> np.ndarray:
    """Linear filter giving a single event's depth: (quadratic fitted to the flanks, averaged
    over the central ``n_dur`` cadences) minus (their mean), flanks ``flank_durations`` x
    ``n_dur`` cadences either side. Odd length; centred."""
    half = n_dur // 2
    m = max(int(round(flank_durations * n_dur)), 3)
    offsets = np.arange(-(half + m), half + m + 1, dtype=np.float64)
    centre = np.abs(offsets) <= half
    if n_dur % 2 == 0:  # an even box: drop one end so it holds n_dur cadences
        centre &= offsets > -half
    flank = ~centre & (np.abs(offsets) <= half + m)
    x = offsets / (half + m)
    design = np.column_stack([np.ones_like(x), x, x * x])
    # baseline averaged over the box = a' (D_f' D_f)^-1 D_f' y_f with a = mean design row in the box
    a = design[centre].mean(axis=0)
    df = design[flank]
    weights = np.zeros_like(x)
    weights[flank] = df @ np.linalg.solve(df.T @ df, a)
    weights[centre] -= 1.0 / centre.sum()
    return weights


def expected_mes(
    time: np.ndarray, noise_flux: np.ndarray, model: np.ndarray, duration_hours: float
) -> float:
    """Expected multiple-event statistic of a planted signal: mean in-transit depth x sqrt(number of
    transits observed) / noise on the transit duration (`noise_on_duration` of the noise before
    injection). In-transit means cadences where the model is below 1 by more than half its depth.
    """
    model = np.asarray(model, dtype=np.float64)
    deficit = 1.0 - model
    if deficit.max() <= 0:
        return 0.0
    in_transit = deficit > 0.5 * deficit.max()
    cadence = float(np.median(np.diff(time)))
    n_transits = in_transit.sum() * cadence / (duration_hours / 24.0)
    sigma = noise_on_duration(time, noise_flux, duration_hours)
    return float(deficit[in_transit].mean() * np.sqrt(max(n_transits, 0.0)) / max(sigma, 1e-12))


def transit_duration_hours(period: float, a_rs: float, rp_rs: float, impact: float) -> float:
    """Total (first to fourth contact) duration of a circular-orbit transit, hours (Winn 2010 eq. 14)."""
    inc = np.arccos(impact / a_rs)
    arg = np.sqrt(max((1 + rp_rs) ** 2 - impact**2, 0.0)) / (a_rs * np.sin(inc))
    return float(period / np.pi * np.arcsin(min(arg, 1.0)) * 24.0)


def christiansen_efficiency(
    mes: np.ndarray, *, a: float = 4.35, b: float = 1.05, offset: float = 4.1
) -> np.ndarray:
    """Kepler pipeline detection efficiency vs MES: a Gamma CDF in (MES - offset), shape a, scale b.

    a = 4.35, b = 1.05: Christiansen et al. 2015 (ApJ 810, 95) for FGK stars. The 4.1 offset is the
    form used by KeplerPORTs; without it the 50% point would lie below the 7.1-sigma threshold.
    """
    x = np.clip(np.asarray(mes, dtype=np.float64) - offset, 0.0, None)
    return special.gammainc(a, x / b)


@dataclass
class Injection:
    """One planted signal and what happened to it."""

    light_curve: str
    kind: str  # "planet" or "eb"
    period: float
    epoch: float
    duration_hours: float
    depth: float
    mes: float
    detected: bool = False
    score: float = float("nan")
    recovered: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


def match_detection(
    period: float,
    epoch: float,
    duration_hours: float,
    detections: Sequence[Detection],
    *,
    period_tolerance: float = 0.01,
    epoch_tolerance_durations: float = 1.0,
) -> int | None:
    """Index of the first detection at the injected period (relative ``period_tolerance``) whose
    epoch lands within ``epoch_tolerance_durations`` of an injected transit; None if there is none.
    """
    for index, (p, t0, _) in enumerate(detections):
        if abs(p - period) > period_tolerance * period:
            continue
        offset = abs((t0 - epoch + period / 2) % period - period / 2)
        if offset <= epoch_tolerance_durations * duration_hours / 24.0:
            return index
    return None


def draw_planet(
    time: np.ndarray,
    rng: np.random.Generator,
    *,
    period_range: tuple[float, float] = (1.0, 40.0),
    rp_rs_range: tuple[float, float] = (0.005, 0.05),
    min_transits: int = 3,
) -> dict:
    """Random planet parameters (log-uniform period and radius ratio, uniform impact < 0.9,
    random Sun-like-ish limb darkening) with at least ``min_transits`` transits inside ``time``."""
    span = float(time.max() - time.min())
    high = min(period_range[1], span / min_transits)
    if high <= period_range[0]:
        raise InjectionError(
            f"a {span:.1f}-day light curve cannot hold {min_transits} transits of P >= {period_range[0]}"
        )
    period = float(np.exp(rng.uniform(np.log(period_range[0]), np.log(high))))
    u1 = float(rng.uniform(0.3, 0.5))
    return {
        "period": period,
        "epoch": float(time.min() + rng.uniform(0, period)),
        "rp_rs": float(np.exp(rng.uniform(*np.log(rp_rs_range)))),
        "impact": float(rng.uniform(0.0, 0.9)),
        "limb_darkening": (u1, float(rng.uniform(0.15, 0.35))),
    }


def injection_recovery(
    search_fn: SearchFn,
    light_curves: Sequence[tuple[str, np.ndarray, np.ndarray]],
    *,
    n_per_light_curve: int,
    rng: np.random.Generator,
    classify_fn: ClassifyFn | None = None,
    threshold: float = 0.5,
    period_range: tuple[float, float] = (1.0, 40.0),
    rp_rs_range: tuple[float, float] = (0.005, 0.05),
    on_progress: Callable[[int, int, str], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> list[Injection]:
    """Plant ``n_per_light_curve`` planets (one at a time) in each light curve, search, classify.

    An injection is ``detected`` when `match_detection` finds it among ``search_fn``'s detections,
    and ``recovered`` when it is detected and ``classify_fn`` scores it >= ``threshold`` (without a
    classifier, recovered = detected).
    """
    total = n_per_light_curve * len(light_curves)
    results: list[Injection] = []
    for name, time, flux in light_curves:
        time, flux = clean_series(time, flux)
        for _ in range(n_per_light_curve):
            if should_cancel is not None and should_cancel():
                raise TrainingCancelled("injection-recovery cancelled")
            params = draw_planet(time, rng, period_range=period_range, rp_rs_range=rp_rs_range)
            a_rs = a_over_rs(params["period"])
            model = planted_transit(time, a_rs=a_rs, **params)
            duration = transit_duration_hours(
                params["period"], a_rs, params["rp_rs"], params["impact"]
            )
            injected = flux * model
            item = Injection(
                light_curve=name,
                kind="planet",
                period=params["period"],
                epoch=params["epoch"],
                duration_hours=duration,
                depth=float(1 - model.min()),
                mes=expected_mes(time, flux, model, duration),
            )
            detections = search_fn(time, injected)
            hit = match_detection(item.period, item.epoch, duration, detections)
            item.detected = hit is not None
            if item.detected:
                item.score = (
                    float(classify_fn(time, injected, detections[hit])) if classify_fn else 1.0
                )
                item.recovered = item.score >= threshold
            results.append(item)
            if on_progress is not None:
                on_progress(len(results), total, f"injections in {name}")
    return results


def recall_curve(mes: np.ndarray, recovered: np.ndarray, bins: np.ndarray) -> dict:
    """Recovered fraction per MES bin: centers (m,), recall (m,) (NaN if empty), counts (m,)."""
    mes, recovered = np.asarray(mes, dtype=np.float64), np.asarray(recovered, dtype=bool)
    bins = np.asarray(bins, dtype=np.float64)
    index = np.digitize(mes, bins) - 1
    inside = (index >= 0) & (index < bins.size - 1)
    counts = np.bincount(index[inside], minlength=bins.size - 1)
    hits = np.bincount(index[inside], weights=recovered[inside], minlength=bins.size - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = hits / counts
    return {"centers": 0.5 * (bins[1:] + bins[:-1]), "recall": recall, "count": counts}


def false_positive_rates(
    search_fn: SearchFn,
    light_curves: Sequence[tuple[str, np.ndarray, np.ndarray]],
    *,
    rng: np.random.Generator,
    classify_fn: ClassifyFn | None = None,
    threshold: float = 0.5,
    n_scrambles: int = 3,
) -> dict[str, dict]:
    """Search (and classify) light curves with no planted signal, inverted, and scrambled.

    For each variant: number of light curves, of detections, of false positives (detections scored
    >= ``threshold``, or all detections without a classifier) and the rate of false positives per
    light curve.
    """
    variants: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {
        "null": [],
        "inverted": [],
        "scrambled": [],
    }
    for _, time, flux in light_curves:
        time, flux = clean_series(time, flux)
        variants["null"].append((time, flux))
        variants["inverted"].append((time, invert_light_curve(flux)))
        for _ in range(n_scrambles):
            variants["scrambled"].append(scramble_light_curve(time, flux, rng=rng))
    report = {}
    for variant, curves in variants.items():
        detections = fps = 0
        for time, flux in curves:
            for detection in search_fn(time, flux):
                detections += 1
                score = float(classify_fn(time, flux, detection)) if classify_fn else 1.0
                fps += score >= threshold
        report[variant] = {
            "light_curves": len(curves),
            "detections": detections,
            "false_positives": int(fps),
            "false_positives_per_light_curve": fps / max(len(curves), 1),
        }
    return report
