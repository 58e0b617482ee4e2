"""Synthetic GALEX eclipses: raw6 + aspect tables + truth, by inverting the pipeline.

There is no real raw6 file offline, so tests, benchmarks and the demo site use eclipses
built here. A sky of point sources (one flaring), a uniform background, the four stim
clusters with a drifting separation, a dithering 1-s aspect solution, Poisson arrivals
quantised to 5 ms, shutter gaps, a few off-detector events, events before the aspect
coverage and a few bad aspect records. Each sky photon is pushed *backwards* through the
reduction (aspect -> distortion/linearity -> walk -> wiggle -> centre/scale -> bit fields),
using the same calibration tables the reduction will use, so a faithful reduction must
recover the injected positions and rates. Detected photons are thinned by the detector
response (flat x flat scale) and by the dead-time model, so exposure- and
response-corrected count rates equal the injected ones.

Only pre-CSP eclipses are simulated (post-CSP would need the inverse of the stim-based yac
step, which depends on the simulated stims themselves).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .aspect import gnomonic_forward, gnomonic_reverse, write_aspect_tables
from .calibration import DetectorSetup, flat_scale, fuv_offsets, load_calibration
from .constants import (
    ASPUM,
    DETSIZE,
    FILL_VALUE,
    PIXELS_PER_AXIS,
    BandConstants,
    band_constants,
    check_eclipse,
    file_prefix,
    is_post_csp,
    normalize_band,
    stim_positions,
)
from .errors import GalexError
from .raw6 import encode_fields, write_raw6

TICK = 0.005  # GALEX event time resolution, s
FWHM_TO_SIGMA = 1.0 / 2.3548200450309493


@dataclass
class SimulationConfig:
    """Knobs of a synthetic eclipse (defaults: a MIS-like NUV field, shrunk by ``n_events``)."""

    band: str = "NUV"
    n_events: int = 200_000
    seed: int = 0
    eclipse: int = 23456
    t0: float = 741_100_000.0  # GALEX time of the first aspect record (2003-06)
    duration: float | None = None  # s; default scales with n_events (120..1700 s)
    ra0: float = 244.27247  # the CR Dra field
    dec0: float = 55.268069
    roll: float = 121.0
    n_legs: int = 1
    leg_gap: float = 60.0  # s between legs (no aspect, no events)
    leg_offset_deg: float = 1.5  # dec step between leg pointings
    dither_arcsec: float = 60.0  # spiral dither amplitude
    dither_period: float = 110.0
    field_radius_deg: float = 0.55  # sky disk filled with background and sources
    n_sources: int = 20
    source_fraction: float = 0.3  # of sky events
    flare_amplitude: float = 6.0  # peak rate / base rate - 1
    flare_tau_fraction: float = 0.06  # decay time / leg duration
    flare_start_fraction: float = 0.55
    psf_fwhm_arcsec: float | None = None  # default 5.3 NUV, 4.2 FUV
    stim_rate: float = 79.0  # all four stims together, counts/s
    stim_sigma_arcsec: float = 2.0
    stim_drift_arcsec: float = 1.0  # change of stim separation over the eclipse
    gaps: list[tuple[float, float]] | None = None  # (start offset, length) in s
    n_off_detector: int = 40
    n_before_aspect: int = 10
    bad_aspect_rows: int = 2
    fuv_tdc_temp: float = 29.5
    compresslevel: int = 6

    def resolved(self) -> SimulationConfig:
        """A copy with defaults that depend on other fields filled in."""
        cfg = SimulationConfig(**asdict(self))
        cfg.band = normalize_band(cfg.band)
        if cfg.duration is None:
            cfg.duration = float(np.clip(cfg.n_events / 12_000.0, 120.0, 1700.0))
        if cfg.psf_fwhm_arcsec is None:
            cfg.psf_fwhm_arcsec = 5.3 if cfg.band == "NUV" else 4.2
        if cfg.gaps is None:
            cfg.gaps = [(round(0.4 * cfg.duration, 3), 3.0)]
        return cfg


@dataclass
class SimulationResult:
    """Paths written by :func:`simulate_eclipse` and the truth it planted."""

    raw6_path: Path
    aspect_dir: Path
    truth_path: Path
    summary_path: Path
    n_events: int
    sources: pd.DataFrame
    summary: dict = field(default_factory=dict)


# --------------------------------------------------------------------------------------
# Scene
# --------------------------------------------------------------------------------------
@dataclass
class _Leg:
    t_start: float
    t_stop: float
    ra0: float
    dec0: float


def _legs(cfg: SimulationConfig) -> list[_Leg]:
    out, start = [], cfg.t0
    for k in range(cfg.n_legs):
        out.append(_Leg(start, start + cfg.duration, cfg.ra0, cfg.dec0 + k * cfg.leg_offset_deg))
        start += cfg.duration + cfg.leg_gap
    return out


def _aspect_track(cfg: SimulationConfig, legs: list[_Leg], rng: np.random.Generator):
    times, ra, dec, roll = [], [], [], []
    for leg in legs:
        t = np.arange(leg.t_start, leg.t_stop + 1.0, 1.0)
        phase = 2 * np.pi * (t - leg.t_start) / cfg.dither_period
        radius = cfg.dither_arcsec * (0.3 + 0.7 * ((t - leg.t_start) / cfg.duration))
        dx, dy = radius * np.cos(phase), radius * np.sin(phase)  # arcsec on the sky
        r, d = gnomonic_reverse(-dx * 10, dy * 10, leg.ra0, leg.dec0, 0.0)
        times.append(t)
        ra.append(r)
        dec.append(d)
        roll.append(cfg.roll + 0.002 * (t - leg.t_start) / 60.0)
    time = np.concatenate(times)
    flags = np.zeros(len(time), np.int64)
    if cfg.bad_aspect_rows:
        candidates = np.arange(20, len(time) - 20)
        flags[
            rng.choice(candidates, size=min(cfg.bad_aspect_rows, len(candidates)), replace=False)
        ] = 1
    return time, np.concatenate(ra), np.concatenate(dec), np.concatenate(roll), flags


def _sources(
    cfg: SimulationConfig, legs: list[_Leg], rng: np.random.Generator, budget: float
) -> pd.DataFrame:
    rows = []
    for k, leg in enumerate(legs):
        n = cfg.n_sources
        rad = cfg.field_radius_deg * 0.8 * np.sqrt(rng.uniform(0.02, 1.0, n))
        ang = rng.uniform(0, 2 * np.pi, n)
        ra, dec = gnomonic_reverse(
            -rad * np.cos(ang) * 36000, rad * np.sin(ang) * 36000, leg.ra0, leg.dec0, 0.0
        )
        rates = np.exp(rng.uniform(np.log(1.0), np.log(30.0), n))
        rates *= budget / rates.sum()
        for i in range(n):
            rows.append({"source_id": k * n + i, "leg": k, "ra": ra[i], "dec": dec[i], "base_cps": rates[i],
                         "variable": bool(k == 0 and i == n - 1)})  # fmt: skip
    return pd.DataFrame(rows)


def variable_rate(t: np.ndarray, base: float, leg: _Leg, cfg: SimulationConfig) -> np.ndarray:
    """Injected count rate of the flaring source: base x (1 + A exp(-(t - t_f)/tau)) after t_f."""
    span = leg.t_stop - leg.t_start
    tf, tau = leg.t_start + cfg.flare_start_fraction * span, cfg.flare_tau_fraction * span
    dt = np.asarray(t, np.float64) - tf
    return base * (
        1.0 + cfg.flare_amplitude * np.where(dt >= 0, np.exp(-np.clip(dt, 0, None) / tau), 0.0)
    )


# --------------------------------------------------------------------------------------
# Inverse pipeline
# --------------------------------------------------------------------------------------
def _bilinear(table: np.ndarray, fx: np.ndarray, fy: np.ndarray) -> np.ndarray:
    ix = np.clip(fx.astype(np.int64), 0, table.shape[1] - 2)
    iy = np.clip(fy.astype(np.int64), 0, table.shape[0] - 2)
    bx, by = fx - ix, fy - iy
    return ((1 - bx) * (1 - by) * table[iy, ix] + bx * (1 - by) * table[iy, ix + 1]
            + (1 - bx) * by * table[iy + 1, ix] + bx * by * table[iy + 1, ix + 1])  # fmt: skip


def _wiggle(table: np.ndarray, phase: np.ndarray, pos_um: np.ndarray) -> np.ndarray:
    f = np.clip(pos_um * ASPUM / 10.0 + 240.0, 0.0, 478.999)
    i = f.astype(np.int64)
    b = f - i
    return table[phase, i] * (1 - b) + table[phase, i + 1] * b


@dataclass(frozen=True)
class AspectTrack:
    """Simulated 1-s aspect records, shape (m,) each: time (s), pointing ra, dec, roll (deg)
    and the pointing offset xi, eta about the leg boresight (0.1 arcsec)."""

    time: np.ndarray
    ra: np.ndarray
    dec: np.ndarray
    roll: np.ndarray
    xi: np.ndarray
    eta: np.ndarray


def sky_to_detector(t, ra, dec, track: AspectTrack):
    """Exact inverse of the aspect step: detector (xi, eta) in 0.1 arcsec of sky photons."""
    k = np.clip(np.searchsorted(track.time, t, side="right") - 1, 0, len(track.time) - 2)
    frac = (t - track.time[k]) / (track.time[k + 1] - track.time[k])
    xi, eta = gnomonic_forward(ra, dec, track.ra[k], track.dec[k], -track.roll[k])
    return xi - (track.xi[k + 1] - track.xi[k]) * frac, eta - (track.eta[k + 1] - track.eta[k]) * frac


def detector_col_row(xi: np.ndarray, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Detector pixel (col, row) of tangent-plane (xi, eta), as the reduction computes it."""
    half = PIXELS_PER_AXIS / 2
    return (((xi / 36000) / (DETSIZE / 2) * FILL_VALUE + 1) * half,
            ((eta / 36000) / (DETSIZE / 2) * FILL_VALUE + 1) * half)  # fmt: skip


def detector_to_fields(xi, eta, t, xa, q, setup: DetectorSetup) -> dict[str, np.ndarray]:
    """Invert distortion, linearity, walk, wiggle and centre/scale by fixed-point iteration.

    Returns the integer raw fields that the forward chain maps back onto (xi, eta), up to
    the raw-clock quantisation (~0.6 arcsec in x, ~1 arcsec in y).
    """
    cal, bc, stim_coefficients, offsets = setup.cal, setup.bc, setup.stim_coefficients, setup.offsets
    sx, sy = bc.flip * xi / 10.0 - offsets[0], bc.flip * eta / 10.0 - offsets[1]
    xp, yp = sx.copy(), sy.copy()
    for _ in range(8):
        dx = _bilinear(cal.linearity_x, xp / 10 + 240.02, yp / 10 + 240.0)
        dy = _bilinear(cal.linearity_y, xp / 10 + 240.02, yp / 10 + 240.0)
        shx, shy = _distortion_shift(xp, yp, t, cal, stim_coefficients)
        xp, yp = sx - dx - shx, sy - dy - shy
    xdig, ydig = xp / ASPUM, yp / ASPUM
    if cal.walk_x.shape[0]:
        for _ in range(6):
            fx, fy = xdig * ASPUM / 10 + 240, ydig * ASPUM / 10 + 240
            ix, iy = np.clip(fx.astype(int), 0, 478), np.clip(fy.astype(int), 0, 478)
            xdig = xp / ASPUM + _bilinear_q(cal.walk_x, q, fx, fy, ix, iy)
            ydig = yp / ASPUM + _bilinear_q(cal.walk_y, q, fx, fy, ix, iy)
    x, y = xdig.copy(), ydig.copy()
    ya = np.zeros(len(x), np.int64)
    xa64 = xa.astype(np.int64)
    for _ in range(4):
        x = xdig - _wiggle(cal.wiggle_x, xa64, x) / (10 * ASPUM)
        for _ in range(3):
            y = ydig - _wiggle(cal.wiggle_y, ya, y) / (10 * ASPUM)
        xraw0 = np.rint(x / bc.xscl + bc.xcen - (((xa64 + 7) % 32) - 16) * bc.xslp).astype(np.int64)
        yraw0 = np.rint(y / bc.yscl + bc.ycen - (((ya + 7) % 32) - 16) * bc.yslp).astype(np.int64)
        ya = (((yraw0 / (2 * bc.yclk) - xraw0 / (2 * bc.xclk)) + 10) * 32 + xa64).astype(
            np.int64
        ) % 32
    return raw_fields_from_clocks(xraw0, yraw0, xa64, q, bc)


def _bilinear_q(table, q, fx, fy, ix, iy):
    bx, by = fx - ix, fy - iy
    return ((1 - bx) * (1 - by) * table[q, iy, ix] + bx * (1 - by) * table[q, iy, ix + 1]
            + (1 - bx) * by * table[q, iy + 1, ix] + bx * by * table[q, iy + 1, ix + 1])  # fmt: skip


def _distortion_shift(xp, yp, t, cal, stim_coefficients):
    if not cal.distortion_x.shape[0]:
        return 0.0, 0.0
    h = cal.distortion_header
    nd, nr, nc = cal.distortion_x.shape
    c = np.clip(((xp - h[0]) / h[1]).astype(int), 0, nc - 1)
    r = np.clip(((yp - h[2]) / h[3]).astype(int), 0, nr - 1)
    d = np.clip(
        ((stim_coefficients[0] + t * stim_coefficients[1] - h[4]) / h[5]).astype(int), 0, nd - 1
    )
    return cal.distortion_x[d, r, c] * 1.5, cal.distortion_y[d, r, c] * 1.5


def raw_fields_from_clocks(xraw0, yraw0, xa, q, bc: BandConstants) -> dict[str, np.ndarray]:
    """Split raw clock positions into coarse (xb, yb) and signed fine (xamc, yamc) parts.

    The coarse clock is the nearest one, so the fine part is centred on it
    (|amc| <= clk/2, well inside 12 bits) as in real telemetry, where yamc goes negative.
    """
    xraw0 = np.clip(xraw0, 0, 8 * bc.xclk - 1 - bc.xclk // 2)
    yraw0 = np.clip(yraw0, 0, 8 * bc.yclk - 1 - bc.yclk // 2)
    xb = np.floor(xraw0 / bc.xclk + 0.5).astype(np.int64)
    yb = np.floor(yraw0 / bc.yclk + 0.5).astype(np.int64)
    return {
        "xb": xb.astype(np.int16), "xamc": (xraw0 - xb * bc.xclk).astype(np.int16),
        "yb": yb.astype(np.int16), "yamc": (yraw0 - yb * bc.yclk).astype(np.int16),
        "q": q.astype(np.int16), "xa": xa.astype(np.int16),
    }  # fmt: skip


def microns_to_fields(x, y, xa, q, bc: BandConstants) -> dict[str, np.ndarray]:
    """Raw fields of events placed directly in detector microns (stims, off-detector events)."""
    xa64 = xa.astype(np.int64)
    xraw0 = np.rint(x / bc.xscl + bc.xcen - (((xa64 + 7) % 32) - 16) * bc.xslp).astype(np.int64)
    yraw0 = np.rint(y / bc.yscl + bc.ycen).astype(np.int64)
    return raw_fields_from_clocks(xraw0, yraw0, xa64, q, bc)


# --------------------------------------------------------------------------------------
# Event generation
# --------------------------------------------------------------------------------------
class _Scene:
    """Everything needed to draw the events of any time slice reproducibly."""

    def __init__(self, cfg: SimulationConfig, cal_dir: str | os.PathLike):
        self.cfg = cfg
        rng = np.random.default_rng([cfg.seed, 0])
        self.bc = band_constants(cfg.band, cfg.eclipse)
        self.cal = load_calibration(cal_dir, cfg.band, cfg.eclipse)
        self.offsets = (
            fuv_offsets(cal_dir, cfg.eclipse, cfg.fuv_tdc_temp) if cfg.band == "FUV" else (0.0, 0.0)
        )
        self.legs = _legs(cfg)
        self.atime, self.ara, self.adec, self.aroll, self.aflags = _aspect_track(
            cfg, self.legs, rng
        )
        leg_of_row = np.searchsorted([lg.t_start for lg in self.legs], self.atime, side="right") - 1
        self.aleg = leg_of_row
        bra = np.array([lg.ra0 for lg in self.legs])[leg_of_row]
        bdec = np.array([lg.dec0 for lg in self.legs])[leg_of_row]
        self.axi, self.aeta = gnomonic_forward(self.ara, self.adec, bra, bdec, -self.aroll)
        self.stims = stim_positions(cfg.band, cfg.eclipse)
        sep0 = ((self.stims[1, 0] - self.stims[0, 0]) + (self.stims[3, 0] - self.stims[2, 0])
                + (self.stims[0, 1] - self.stims[2, 1]) + (self.stims[1, 1] - self.stims[3, 1])) / 4  # fmt: skip
        span = self.legs[-1].t_stop - self.legs[0].t_start
        self.stim_sep0, self.stim_slope = sep0, cfg.stim_drift_arcsec / span
        self.stim_coefficients = (sep0 - self.stim_slope * cfg.t0, self.stim_slope)
        self.setup = DetectorSetup(self.cal, self.bc, self.stim_coefficients, self.offsets)
        self.track = AspectTrack(self.atime, self.ara, self.adec, self.aroll, self.axi, self.aeta)
        detected_rate = max(cfg.n_events / (cfg.duration * cfg.n_legs) - cfg.stim_rate, 1.0)
        m, b = self.bc.deadtime
        self.deadtime = -m * detected_rate / b  # fraction of events lost at the planned rate
        self.r_max = float(
            np.nanmax(self.cal.flat)
            * np.max(flat_scale(np.array([cfg.t0, cfg.t0 + span]), self.bc))
        )
        # Intrinsic (response-corrected) sky rate that yields the requested detected rate.
        acceptance = self._mean_response(rng) * (1.0 - self.deadtime)
        self.sky_rate = detected_rate / max(acceptance, 1e-3)
        self.bg_rate = self.sky_rate * (1.0 - cfg.source_fraction)
        self.sources = _sources(cfg, self.legs, rng, self.sky_rate * cfg.source_fraction)

    def _mean_response(self, rng) -> float:
        n = 20_000
        rad = self.cfg.field_radius_deg * np.sqrt(rng.uniform(0, 1, n))
        ang = rng.uniform(0, 2 * np.pi, n)
        col = 400 + 600 * rad * np.cos(ang)
        row = 400 + 600 * rad * np.sin(ang)
        on = (col > 0) & (col < 800) & (row > 0) & (row < 800)
        flat = np.zeros(n)
        flat[on] = self.cal.flat[col[on].astype(int), row[on].astype(int)]
        return float(flat.mean() * flat_scale(self.cfg.t0, self.bc))

    def in_gap(self, t: np.ndarray) -> np.ndarray:
        out = np.zeros(len(t), bool)
        for start, length in self.cfg.gaps:
            for leg in self.legs:
                out |= (t >= leg.t_start + start) & (t < leg.t_start + start + length)
        return out

    def times(self, rng, rate, ta, tb) -> np.ndarray:
        n = rng.poisson(rate * (tb - ta))
        return np.floor(rng.uniform(ta, tb, n) / TICK) * TICK

    def sky_events(self, rng, ta, tb, leg_index):
        """Candidate sky photons in [ta, tb): times, ra, dec and acceptance weight."""
        cfg, leg = self.cfg, self.legs[leg_index]
        radius = cfg.field_radius_deg * 36000
        t = self.times(rng, self.bg_rate * self.r_max, ta, tb)
        rr, aa = radius * np.sqrt(rng.uniform(0, 1, len(t))), rng.uniform(0, 2 * np.pi, len(t))
        r, d = gnomonic_reverse(rr * np.cos(aa), rr * np.sin(aa), leg.ra0, leg.dec0, 0.0)
        parts = [(t, r, d, np.ones(len(t)))]
        sigma = cfg.psf_fwhm_arcsec * FWHM_TO_SIGMA * 10
        for src in self.sources[self.sources.leg == leg_index].itertuples():
            peak = src.base_cps * (1 + cfg.flare_amplitude) if src.variable else src.base_cps
            t = self.times(rng, peak * self.r_max, ta, tb)
            w = variable_rate(t, src.base_cps, leg, cfg) / peak if src.variable else np.ones(len(t))
            r, d = gnomonic_reverse(
                rng.normal(0, sigma, len(t)), rng.normal(0, sigma, len(t)), src.ra, src.dec, 0.0
            )
            parts.append((t, r, d, w))
        return tuple(np.concatenate(column) for column in zip(*parts, strict=True))

    def encode_sky(self, rng, t, ra, dec, weight):
        xi, eta = sky_to_detector(t, ra, dec, self.track)
        col, row = detector_col_row(xi, eta)
        on = (col > 0) & (col < 800) & (row > 0) & (row < 800)
        resp = np.zeros(len(t))
        ic, ir = col[on].astype(int), row[on].astype(int)
        resp[on] = self.cal.flat[ic, ir] * flat_scale(t[on], self.bc)
        keep = rng.uniform(0, 1, len(t)) < weight * resp / self.r_max * (1 - self.deadtime)
        t, xi, eta = t[keep], xi[keep], eta[keep]
        xa = rng.integers(0, 32, len(t))
        q = np.clip(np.rint(rng.normal(14, 4, len(t))), 0, 31).astype(np.int64)
        return t, detector_to_fields(xi, eta, t, xa, q, self.setup)

    def stim_events(self, rng, ta, tb):
        t = self.times(rng, self.cfg.stim_rate, ta, tb)
        which = rng.integers(0, 4, len(t))
        centre = self.stims.mean(axis=0)
        grow = 1.0 + self.stim_slope * (t - self.cfg.t0) / self.stim_sep0
        pos = centre + (self.stims[which] - centre) * grow[:, None]
        pos += rng.normal(0, self.cfg.stim_sigma_arcsec, pos.shape)
        xa, q = rng.integers(0, 32, len(t)), rng.integers(8, 24, len(t))
        return t, microns_to_fields(pos[:, 0] / ASPUM, pos[:, 1] / ASPUM, xa, q, self.bc)

    def odd_events(self, rng, n, ta, tb):
        """Events beyond the calibration grid (end with flag 12)."""
        t = np.sort(np.floor(rng.uniform(ta, tb, n) / TICK) * TICK)
        x_as = rng.choice([-1, 1], n) * rng.uniform(2420, 2480, n)
        y_as = rng.uniform(-800, 800, n)
        xa, q = rng.integers(0, 32, n), rng.integers(0, 32, n)
        return t, microns_to_fields(x_as / ASPUM, y_as / ASPUM, xa, q, self.bc)


def _merge(parts: list[tuple[np.ndarray, dict]]) -> tuple[np.ndarray, np.ndarray]:
    t = np.concatenate([p[0] for p in parts])
    fields = {k: np.concatenate([p[1][k] for p in parts]) for k in parts[0][1]}
    order = np.argsort(t, kind="stable")
    phb = encode_fields({k: v[order] for k, v in fields.items()})
    return t[order], phb


def _chunks(scene: _Scene, counts: dict) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    cfg = scene.cfg
    step = max(
        1.0, float(np.floor(1_000_000 / max(cfg.n_events / (cfg.duration * cfg.n_legs), 1.0)))
    )
    chunk_id = 0
    for leg_index, leg in enumerate(scene.legs):
        if leg_index == 0 and cfg.n_before_aspect:
            rng = np.random.default_rng([cfg.seed, 1, 0])
            t, f = scene.odd_events(rng, cfg.n_before_aspect, leg.t_start - 0.9, leg.t_start - 0.1)
            counts["before_aspect"] += len(t)
            yield _merge([(t, f)])
        for ta in np.arange(leg.t_start, leg.t_stop, step):
            tb = min(ta + step, leg.t_stop)
            chunk_id += 1
            rng = np.random.default_rng([cfg.seed, 2, chunk_id])
            t, ra, dec, w = scene.sky_events(rng, ta, tb, leg_index)
            sky_t, sky = scene.encode_sky(rng, t, ra, dec, w)
            st_t, st = scene.stim_events(rng, ta, tb)
            n_odd = rng.binomial(cfg.n_off_detector, (tb - ta) / (cfg.duration * cfg.n_legs))
            od_t, od = scene.odd_events(rng, n_odd, ta, tb)
            parts = []
            for name, (tt, ff) in (
                ("sky", (sky_t, sky)),
                ("stim", (st_t, st)),
                ("off_detector", (od_t, od)),
            ):
                keep = ~scene.in_gap(tt)
                counts[name] += int(keep.sum())
                parts.append((tt[keep], {k: v[keep] for k, v in ff.items()}))
            yield _merge(parts)


def _truth_table(scene: _Scene) -> pd.DataFrame:
    cfg = scene.cfg
    rows = []
    for src in scene.sources.itertuples():
        leg = scene.legs[src.leg]
        grid = np.arange(leg.t_start, leg.t_stop, 0.5)
        rate = (
            variable_rate(grid, src.base_cps, leg, cfg)
            if src.variable
            else np.full(len(grid), src.base_cps)
        )
        live = ~scene.in_gap(grid)
        rows.append({"row_type": "source", "source_id": src.source_id, "leg": src.leg, "ra": src.ra,
                     "dec": src.dec, "mean_cps": float(rate[live].mean()), "variable": src.variable,
                     "t": np.nan, "cps": np.nan})  # fmt: skip
        if src.variable:
            rows += [{"row_type": "rate", "source_id": src.source_id, "leg": src.leg, "ra": src.ra,
                      "dec": src.dec, "mean_cps": np.nan, "variable": True, "t": float(tt), "cps": float(c)}
                     for tt, c in zip(grid, rate, strict=True)]  # fmt: skip
    return pd.DataFrame(rows)


def read_truth(path: str | os.PathLike) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split ``truth.csv`` into (sources, variable-source rate curve)."""
    table = pd.read_csv(path)
    sources = (
        table[table.row_type == "source"]
        .drop(columns=["row_type", "t", "cps"])
        .reset_index(drop=True)
    )
    rate = table[table.row_type == "rate"][["source_id", "t", "cps"]].reset_index(drop=True)
    return sources, rate


def _write_scene_aspect(scene: _Scene, aspect_dir: Path) -> None:
    """The scene's aspect track as gPhoton 2 aspect, boresight and metadata tables."""
    cfg = scene.cfg
    legs_rows = [{"time": lg.t_start, "duration": lg.t_stop - lg.t_start + 1.0, "ra0": lg.ra0, "dec0": lg.dec0}
                 for lg in scene.legs]  # fmt: skip
    metadata = {
        "plan_type": "MIS", "planned_legs": cfg.n_legs, "observed_legs": cfg.n_legs, "has_aspect": True,
        "eclipse_start": cfg.t0, "eclipse_duration": scene.legs[-1].t_stop - cfg.t0,
        "ra0": cfg.ra0, "dec0": cfg.dec0, "fuv_tdc_temp": cfg.fuv_tdc_temp, "nuv_tdc_temp": 29.0,
        "nuv_has_raw6": cfg.band == "NUV", "fuv_has_raw6": cfg.band == "FUV",
    }  # fmt: skip
    write_aspect_tables(aspect_dir, eclipse=cfg.eclipse, time=scene.atime, ra=scene.ara, dec=scene.adec,
                        roll=scene.aroll, flags=scene.aflags, legs=legs_rows, metadata=metadata)  # fmt: skip


def _summary(scene: _Scene, n: int, counts: dict[str, int]) -> dict:
    """What ``simulation.json`` records: configuration, stim drift, dead time, event counts."""
    bad_rows = np.nonzero(scene.aflags % 2 == 1)[0]
    return {
        "config": asdict(scene.cfg), "n_events": n, "event_counts": counts,
        "stim_separation_arcsec": scene.stim_sep0, "stim_separation_slope": scene.stim_slope,
        "stim_coefficients": list(scene.stim_coefficients), "deadtime_fraction": scene.deadtime,
        "background_cps": scene.bg_rate, "bad_aspect_times": scene.atime[bad_rows].tolist(),
        "legs": [asdict(lg) for lg in scene.legs], "calibration": scene.cal.provenance,
        "warnings": scene.cal.warnings,
    }  # fmt: skip


def simulate_eclipse(out_dir: str | os.PathLike, cal_dir: str | os.PathLike,
                     config: SimulationConfig | None = None, **overrides) -> SimulationResult:  # fmt: skip
    """Write a synthetic eclipse: raw6, aspect tables, ``truth.csv`` and ``simulation.json``.

    Parameters
    ----------
    out_dir : path-like
        Destination folder; gets ``e{eclipse}-{n|f}d-raw6.fits.gz``, ``aspect/``,
        ``truth.csv`` (row_type "source": ra, dec, mean_cps of every planted source;
        row_type "rate": the flaring source's injected rate every 0.5 s) and
        ``simulation.json`` (configuration, stim drift, dead time, event counts).
    cal_dir : path-like
        Calibration folder (the same one the reduction will use).
    config : SimulationConfig, optional; ``overrides`` replace its fields.
    """
    cfg = SimulationConfig(**{**asdict(config or SimulationConfig()), **overrides}).resolved()
    check_eclipse(cfg.eclipse)
    if is_post_csp(cfg.eclipse):
        raise GalexError(f"only pre-CSP eclipses (<= 37423) can be simulated, got {cfg.eclipse}")
    if cfg.n_events < 1000:
        raise GalexError(f"n_events must be at least 1000, got {cfg.n_events}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    scene = _Scene(cfg, cal_dir)
    aspect_dir = out / "aspect"
    _write_scene_aspect(scene, aspect_dir)
    counts = {"before_aspect": 0, "sky": 0, "stim": 0, "off_detector": 0}
    raw6_path = out / f"{file_prefix(cfg.eclipse, cfg.band)}-raw6.fits.gz"
    n = write_raw6(raw6_path, band_code=scene.bc.code, eclipse=cfg.eclipse, chunks=_chunks(scene, counts),
                   compresslevel=cfg.compresslevel)  # fmt: skip
    truth_path = out / "truth.csv"
    _truth_table(scene).to_csv(truth_path, index=False)
    summary = _summary(scene, n, counts)
    summary_path = out / "simulation.json"
    summary_path.write_text(json.dumps(summary, indent=1, default=float))
    return SimulationResult(
        raw6_path, aspect_dir, truth_path, summary_path, n, scene.sources, summary
    )
