"""Noise to inject into: simulated red noise and real Kepler/TESS light curves with their events masked.

* `red_noise` / `simulated_light_curve` — white + AR(1) correlated noise + stellar variability +
  gaps; `kepler_noise_light_curves` — real Kepler PDCSAP flux from the demo data with the known
  DR24 TCE events masked; `tess_noise_light_curves` — the two TESS demo stars with their hot
  Jupiters masked (`deepest_epoch`), binned to Kepler long cadence (`bin_light_curve`).
* `invert_light_curve` / `scramble_light_curve` — the DR25 INV and SCR null tests: flipping the
  flux turns dips into bumps; permuting blocks of data breaks any real periodicity.

The signals planted into them and the injection-recovery harness are in :mod:`.injection`.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from astropy.io import fits
from numba import njit

from .errors import InjectionError

Detection = tuple[float, float, float]  # period (d), epoch (same time system as time), duration (h)

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


def clean_series(time: np.ndarray, flux: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A 1-D, equal-length, finite (time, flux) pair as contiguous float64 arrays."""
    time = np.ascontiguousarray(time, dtype=np.float64)
    flux = np.ascontiguousarray(flux, dtype=np.float64)
    if time.ndim != 1 or time.shape != flux.shape:
        raise InjectionError(f"time {time.shape} and flux {flux.shape} must be 1-D of equal length")
    if not (np.all(np.isfinite(time)) and np.all(np.isfinite(flux))):
        raise InjectionError("time and flux must be finite")
    return time, flux


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
    time, flux = clean_series(time, flux)
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
    time, flux = clean_series(time, flux)
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
    time, flux = clean_series(time, flux)
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
