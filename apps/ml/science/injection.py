"""Injection-recovery: planted transits and eclipsing binaries in real and simulated noise.

* `planted_transit` — batman-package (Kreidberg 2015) quadratic limb-darkened transit, multiplied
  into a light curve.
* `planted_eclipsing_binary` — an EB caught at half its period: "odd" and "even" eclipses of
  unequal depth, plus an optional flat-bottomed secondary eclipse at phase 0.5.
* `red_noise` / `simulated_light_curve` — white + AR(1) correlated noise + stellar variability +
  gaps; `kepler_noise_light_curves` — real Kepler PDCSAP flux from the demo data with the known
  DR24 TCE events masked; `tess_noise_light_curves` — the two TESS demo stars with their hot
  Jupiters masked (`deepest_epoch`), binned to Kepler long cadence (`bin_light_curve`).
* `invert_light_curve` / `scramble_light_curve` — the DR25 INV and SCR null tests: flipping the
  flux turns dips into bumps; permuting blocks of data breaks any real periodicity.
* `expected_mes` — the injected signal strength in Kepler MES-like units;
  `christiansen_efficiency` — the Kepler pipeline's detection efficiency against which we plot.
* `injection_recovery`, `recall_curve`, `false_positive_rates` — the harness, written against
  ``search_fn(time, flux) -> [(period_days, epoch, duration_hours), ...]`` (the light-curve search)
  and ``classify_fn(time, flux, detection) -> probability`` (view building + CNN scoring).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import batman
import numpy as np
from astropy.io import fits
from numba import njit
from scipy import ndimage, special

from .errors import InjectionError, TrainingCancelled

Detection = tuple[float, float, float]  # period (d), epoch (same time system as time), duration (h)
SearchFn = Callable[[np.ndarray, np.ndarray], list[Detection]]
ClassifyFn = Callable[[np.ndarray, np.ndarray, Detection], float]

# Quadratic limb darkening of a Sun-like star in the Kepler band (Claret & Bloemen 2011, approx.).
SUN_LIKE_LIMB_DARKENING = (0.40, 0.26)
KEPLER_LONG_CADENCE_DAYS = 29.4244 / 1440.0

# Real Kepler noise in the demo data whose TCE events are all in the DR24 table (so they can be
# masked): the eclipsing binary KIC 2306740 (17 quarters) and Boyajian's star KIC 8462852 Q13 and
# Q15 (no DR24 TCE; its Q16 dips are left out). Kepler-90 is not used: its 8 planets are not all
# DR24 TCEs, so their transits could not be masked.
NOISE_FILES = {
    2306740: "kepler/kplr002306740-*_llc.fits",
    8462852: "kepler/kplr008462852-201[23]*[0-9]_llc.fits",
}
NOISE_EXCLUDE = ("kplr008462852-2013098041711_llc.fits",)
DR24_TCE_TABLE = "catalogs/q1_q17_dr24_tce_2020.01.28_08.52.13.csv"


def _clean_series(time: np.ndarray, flux: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    time = np.ascontiguousarray(time, dtype=np.float64)
    flux = np.ascontiguousarray(flux, dtype=np.float64)
    if time.ndim != 1 or time.shape != flux.shape:
        raise InjectionError(f"time {time.shape} and flux {flux.shape} must be 1-D of equal length")
    if not (np.all(np.isfinite(time)) and np.all(np.isfinite(flux))):
        raise InjectionError("time and flux must be finite")
    return time, flux


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
    time, _ = _clean_series(time, np.ones_like(np.asarray(time, dtype=np.float64)))
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
    time, _ = _clean_series(time, np.ones_like(np.asarray(time, dtype=np.float64)))
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


@njit(cache=True)
def _ar1_kernel(innovations: np.ndarray, phi: float) -> np.ndarray:
    """x[0] = e[0] / sqrt(1 - phi^2); x[i] = phi x[i-1] + e[i]: a stationary AR(1) series (n,)."""
    out = np.empty_like(innovations)
    if innovations.shape[0] == 0:
        return out
    out[0] = innovations[0] / np.sqrt(1.0 - phi * phi)
    for i in range(1, innovations.shape[0]):
        out[i] = phi * out[i - 1] + innovations[i]
    return out


def red_noise(
    n: int, *, sigma: float, correlation_cadences: float, rng: np.random.Generator
) -> np.ndarray:
    """Stationary AR(1) ("red") noise (n,) of standard deviation ``sigma``.

    ``correlation_cadences`` is the e-folding correlation length in cadences: phi = exp(-1 / length).
    """
    if n < 0 or not sigma >= 0 or not correlation_cadences > 0:
        raise InjectionError("n >= 0, sigma >= 0 and correlation_cadences > 0 required")
    phi = float(np.exp(-1.0 / correlation_cadences))
    innovations = rng.normal(0.0, sigma * np.sqrt(1.0 - phi * phi), size=n)
    return _ar1_kernel(np.ascontiguousarray(innovations), phi)


def simulated_light_curve(
    *,
    days: float = 90.0,
    cadence_days: float = KEPLER_LONG_CADENCE_DAYS,
    white_ppm: float = 100.0,
    red_ppm: float = 50.0,
    red_hours: float = 6.0,
    variability_ppm: float = 500.0,
    variability_period_days: float = 12.0,
    gap_fraction: float = 0.05,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """A Kepler-like normalised light curve: white + AR(1) red noise + a rotation-like sinusoid + gaps.

    Returns (time (m,), flux (m,)) with m <= days / cadence; gaps are a few contiguous chunks.
    """
    n = int(days / cadence_days)
    if n < 10:
        raise InjectionError("light curve must span at least 10 cadences")
    time = np.arange(n) * cadence_days
    flux = 1.0 + rng.normal(0.0, white_ppm * 1e-6, n)
    flux += red_noise(
        n, sigma=red_ppm * 1e-6, correlation_cadences=red_hours / 24 / cadence_days, rng=rng
    )
    phase = rng.uniform(0, 2 * np.pi)
    flux += variability_ppm * 1e-6 * np.sin(2 * np.pi * time / variability_period_days + phase)
    keep = np.ones(n, dtype=bool)
    n_gaps = 3
    gap_len = int(gap_fraction * n / n_gaps)
    for start in rng.integers(0, max(n - gap_len, 1), size=n_gaps if gap_len else 0):
        keep[start : start + gap_len] = False
    return time[keep], flux[keep]


def _read_kepler_flux(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with fits.open(path, memmap=False) as hdul:
        data = hdul["LIGHTCURVE"].data
        time = np.asarray(data["TIME"], dtype=np.float64)
        flux = np.asarray(data["PDCSAP_FLUX"], dtype=np.float64)
    good = np.isfinite(time) & np.isfinite(flux)
    time, flux = time[good], flux[good]
    return time, flux / np.median(flux)


def dr24_tces(demo_data: str | Path, kepid: int) -> list[Detection]:
    """(period d, epoch BKJD, duration h) of every DR24 TCE of ``kepid`` in the demo TCE table."""
    rows = []
    with (Path(demo_data) / DR24_TCE_TABLE).open() as handle:
        lines = (line for line in handle if not line.startswith("#"))
        for row in csv.DictReader(lines):
            if int(row["kepid"]) == kepid:
                rows.append(
                    (
                        float(row["tce_period"]),
                        float(row["tce_time0bk"]),
                        float(row["tce_duration"]),
                    )
                )
    return rows


def mask_events(
    time: np.ndarray, events: Sequence[Detection], *, width_factor: float = 2.0
) -> np.ndarray:
    """Boolean (n,) True where ``time`` is outside ``width_factor`` durations around any event."""
    keep = np.ones(time.shape, dtype=bool)
    for period, epoch, duration_hours in events:
        half = width_factor * duration_hours / 24.0 / 2.0
        phase = np.abs((time - epoch + period / 2) % period - period / 2)
        keep &= phase > half
    return keep


def kepler_noise_light_curves(demo_data: str | Path) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Real Kepler noise: (name, time BKJD, normalised PDCSAP flux) per star, DR24 events masked.

    Each quarter is divided by its median; quarters of a star are concatenated in time order.
    """
    root = Path(demo_data)
    out = []
    for kepid, pattern in NOISE_FILES.items():
        files = sorted(p for p in root.glob(pattern) if p.name not in NOISE_EXCLUDE)
        if not files:
            raise InjectionError(f"no Kepler files {pattern} under {root}")
        parts = [_read_kepler_flux(p) for p in files]
        time = np.concatenate([t for t, _ in parts])
        flux = np.concatenate([f for _, f in parts])
        keep = mask_events(time, dr24_tces(root, kepid), width_factor=2.0)
        out.append((f"KIC {kepid}", time[keep], flux[keep]))
    return out


# The two TESS demo light curves are hot-Jupiter hosts: (file, period d, generous total duration h).
# Periods from Maxted et al. 2016 (WASP-126 b) and Anderson et al. 2012 (WASP-46 b); the epoch is
# found in the data (`deepest_epoch`), so only the period has to be right to mask every transit.
TESS_NOISE_FILES = {
    25155310: ("tess/tess2018206045859-s0001-0000000025155310-0120-s_lc.fits", 3.28880, 4.0),
    231663901: ("tess/tess2018206045859-s0001-0000000231663901-0120-s_lc.fits", 1.43037, 2.0),
}


def deepest_epoch(
    time: np.ndarray, flux: np.ndarray, period: float, duration_hours: float, *, n_trials: int = 400
) -> float:
    """Mid-time of the deepest box of ``duration_hours`` at a known ``period`` (a one-period BLS).

    Trial epochs step through one period from ``time[0]``; each scores the mean flux of the points
    within half a duration of it (folded). Returns the epoch with the lowest mean, in ``time``'s system.
    """
    time, flux = _clean_series(time, flux)
    half = duration_hours / 24.0 / 2.0
    best, best_mean = float(time[0]), np.inf
    for epoch in time[0] + np.arange(n_trials) * period / n_trials:
        inside = np.abs((time - epoch + period / 2) % period - period / 2) < half
        if inside.sum() >= 3 and flux[inside].mean() < best_mean:
            best, best_mean = float(epoch), float(flux[inside].mean())
    return best


def bin_light_curve(
    time: np.ndarray, flux: np.ndarray, cadence_days: float
) -> tuple[np.ndarray, np.ndarray]:
    """Average a light curve into bins of ``cadence_days`` (e.g. TESS 2-min to Kepler 30-min).

    Bins start at ``time[0]``; a bin is kept when it holds at least half the points a full bin
    would (so bins cut by gaps do not carry extra noise). Returns (mean time (m,), mean flux (m,)).
    """
    time, flux = _clean_series(time, flux)
    if not cadence_days > 0 or time.size < 2:
        raise InjectionError("cadence_days must be positive and the light curve at least 2 points")
    index = np.floor((time - time[0]) / cadence_days).astype(np.int64)
    counts = np.bincount(index)
    full = max(cadence_days / float(np.median(np.diff(time))), 1.0)
    keep = counts >= 0.5 * full
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_time = np.bincount(index, weights=time) / counts
        mean_flux = np.bincount(index, weights=flux) / counts
    return mean_time[keep], mean_flux[keep]


def tess_noise_light_curves(
    demo_data: str | Path, *, cadence_days: float = KEPLER_LONG_CADENCE_DAYS
) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Real TESS noise: (name, time BTJD, normalised PDCSAP flux) per star, binned to ``cadence_days``.

    The host's hot Jupiter is masked (2 durations around each transit) before binning, so what is
    left is the star's and the instrument's noise at Kepler long cadence.
    """
    root = Path(demo_data)
    out = []
    for tic, (name, period, hours) in TESS_NOISE_FILES.items():
        path = root / name
        if not path.is_file():
            raise InjectionError(f"TESS noise file {path} is missing")
        time, flux = _read_kepler_flux(path)
        epoch = deepest_epoch(time, flux, period, hours)
        keep = mask_events(time, [(period, epoch, hours)], width_factor=2.0)
        time, flux = bin_light_curve(time[keep], flux[keep], cadence_days)
        out.append((f"TIC {tic}", time, flux / np.median(flux)))
    return out


def invert_light_curve(flux: np.ndarray) -> np.ndarray:
    """DR25 "INV": reflect the flux about its median, so real dips become bumps (n,)."""
    flux = np.asarray(flux, dtype=np.float64)
    return 2.0 * np.median(flux) - flux


def scramble_light_curve(
    time: np.ndarray, flux: np.ndarray, *, n_blocks: int = 8, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """DR25 "SCR"-like: cut the series at random points into ``n_blocks`` blocks (each at least half
    the mean block size) and lay them end to end in a random order, each keeping its internal time
    spacing. Random block lengths make the shifts incommensurate with any period, so a real periodic
    signal loses its phase coherence across blocks; noise statistics are unchanged. Returns
    (time, flux).
    """
    time, flux = _clean_series(time, flux)
    if n_blocks < 2 or 2 * n_blocks > time.size:
        raise InjectionError(f"n_blocks must be in [2, {time.size // 2}]")
    minimum = time.size // (2 * n_blocks)
    spare = time.size - minimum * n_blocks
    extra = np.diff(np.r_[0, np.sort(rng.integers(0, spare + 1, n_blocks - 1)), spare])
    edges = np.r_[0, np.cumsum(minimum + extra)]
    blocks = [np.arange(edges[k], edges[k + 1]) for k in range(n_blocks)]
    order = rng.permutation(n_blocks)
    if np.all(order == np.arange(n_blocks)):
        order = np.roll(order, 1)
    step = np.median(np.diff(time))
    new_time, cursor = [], time[0]
    for k in order:
        t = time[blocks[k]]
        new_time.append(t - t[0] + cursor)
        cursor = new_time[-1][-1] + step
    return np.concatenate(new_time), np.concatenate([flux[blocks[k]] for k in order])


def noise_on_duration(time: np.ndarray, flux: np.ndarray, duration_hours: float) -> float:
    """Robust scatter of the flux averaged over one transit duration (a CDPP-like noise, fraction).

    The series is high-passed by a running median of 3 durations (at least 0.5 d), boxcar-averaged
    over one duration, and the 1.4826 MAD of the result is returned. Assumes a roughly uniform cadence.
    """
    time, flux = _clean_series(time, flux)
    cadence = float(np.median(np.diff(time)))
    n_dur = max(int(round(duration_hours / 24.0 / cadence)), 1)
    window = max(int(round(max(3 * duration_hours / 24.0, 0.5) / cadence)) | 1, 3)
    residual = flux / ndimage.median_filter(flux, size=window, mode="nearest") - 1.0
    averaged = ndimage.uniform_filter1d(residual, size=n_dur, mode="nearest")
    return float(1.4826 * np.median(np.abs(averaged - np.median(averaged))))


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
        time, flux = _clean_series(time, flux)
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
        time, flux = _clean_series(time, flux)
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
