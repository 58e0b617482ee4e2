"""The search preset end to end: active stars, long transits, sectors years apart, K2, nulls."""

from __future__ import annotations

import numpy as np
import pytest

from apps.lightcurves.science.cleaning import normalise, segment_bounds
from apps.lightcurves.science.detection import SEARCH_PRESETS, replay
from apps.lightcurves.science.grid import stellar_density
from apps.lightcurves.science.io import LightCurve
from apps.lightcurves.science.pipeline import prepare, search_transits
from apps.lightcurves.science.search_run import SearchOptions, run_search
from apps.lightcurves.science.significance import asymmetry, event_depths
from apps.lightcurves.science.views import fold

from .conftest import inject_transit

AU_MIC_S1 = "tess/tess2018206045859-s0001-0000000441420236-0120-s_lc.fits"
HD106315 = [
    "tess/tess2021336043614-s0046-0000000056815340-0217-s_lc.fits",
    "tess/tess2025099153000-s0091-0000000056815340-0288-s_lc.fits",
]
WASP151 = "k2/ktwo246441449-c12_llc.fits"
GJ9827 = "k2/ktwo246389858-c12_llc.fits"
AU_MIC_RHO = stellar_density(logg=4.602, radius=0.698)  # TIC header values
HD106315_RHO = stellar_density(logg=4.373, radius=1.243)


def curve(time, flux, mission="TESS", target=1):
    n = time.size
    zeros = np.zeros(n)
    return LightCurve(time, flux, np.full(n, 1e-3), flux, zeros + 1e-3, zeros, zeros, np.zeros(n, np.int64),
                      mission=mission, target_id=target)


def found_near(signals, period, rel):
    return [s for s in signals if abs(s.period / period - 1) < rel]


def test_it_finds_a_planet_under_a_one_day_rotation_far_deeper_than_its_transits():
    # TESS-like sector at 10-min cadence: 1-d spots of 1 % (+ a harmonic) over a 2 ppt,
    # 1.5-h transit of a dense M dwarf (rho = 5): the rotation is 5x the depth
    rng = np.random.default_rng(1)
    t = np.arange(0, 27, 10 / 1440)
    t = t[(t < 13.0) | (t > 14.2)]  # the mid-sector gap
    spots = 0.01 * np.sin(2 * np.pi * t / 1.0) + 0.003 * np.sin(4 * np.pi * t / 1.0 + 1)
    flux = (1 + spots) * (1 + rng.normal(0, 1e-3, t.size))
    flux = inject_transit(t, flux, period=3.1, epoch=1.3, rp=0.045, a=17.0, inc=90.0, exp_time=10 / 1440)
    report: dict = {}
    signals = search_transits([curve(t, flux)], SearchOptions(density=5.0), report=report)
    assert report["window_days"] < 0.3  # the rotation shortened the window (0.41 d otherwise)
    assert signals and signals[0].period == pytest.approx(3.1, rel=2e-3)
    assert signals[0].depth == pytest.approx(0.045**2, rel=0.3)


def test_it_keeps_a_twelve_hour_transit_on_a_quiet_star():
    # Kepler-like: 200 d at 29.4 min, a subgiant (rho = 0.14) with a 40-d planet of 12-h transits
    rng = np.random.default_rng(2)
    t = np.arange(100, 300, 0.0204)
    flux = (1 + 1e-3 * np.sin(2 * np.pi * t / 25.0)) * (1 + rng.normal(0, 2e-4, t.size))
    a = 4.208 * 40.0 ** (2 / 3) * 0.138 ** (1 / 3) * 1.0  # a/R* for rho = 0.138
    flux = inject_transit(t, flux, period=40.0, epoch=117.0, rp=0.022, a=a, inc=90.0, exp_time=0.0204)
    signals = search_transits([curve(t, flux, mission="Kepler")], SearchOptions(density=0.138, period_max=100.0))
    (s,) = found_near(signals, 40.0, 2e-3)
    assert s.duration_hours == pytest.approx(12.0, rel=0.3)
    assert s.depth == pytest.approx(0.022**2, rel=0.2)  # measured with its transits masked


def test_it_recovers_a_transit_planted_in_au_mics_real_noise(read):
    lc = read(AU_MIC_S1)
    own = (np.abs(fold(lc.time, 8.463, 1330.39)) < 0.25) | (np.abs(fold(lc.time, 18.859, 1342.22)) < 0.25)
    lc = lc.take(~own & np.isfinite(lc.time))
    flux = inject_transit(lc.time, lc.flux, period=5.1, epoch=1327.2, rp=0.055, a=14.0, inc=90.0,
                          exp_time=2 / 1440)
    signals = search_transits([lc.replace(flux=flux)], SearchOptions(density=AU_MIC_RHO))
    assert found_near(signals, 5.1, 2e-3)


def test_it_finds_au_mic_b_in_sector_1(read):
    # spots 5 % peak to peak in 4.86 d and frequent flares over two ~3-ppt transits
    signals = search_transits([read(AU_MIC_S1)], SearchOptions(density=AU_MIC_RHO))
    (b,) = found_near(signals, 8.463, 5e-3)
    assert b.n_transits == 2 and 0.002 < b.depth < 0.005
    assert abs(fold(np.array([1330.39]), b.period, b.epoch)[0]) < 0.05


def test_it_finds_hd_106315_c_across_sectors_3_4_years_apart(read):
    report: dict = {}
    signals = search_transits([read(f) for f in HD106315], SearchOptions(density=HD106315_RHO, max_signals=2), report=report)
    assert report["n_periods"] > 100_000  # the grid covers the whole 1,250-d span
    # c's two transits (one per sector, ~0.9 ppt) are found; one transit per sector leaves its
    # period one of the aliases 1221.27 d / n that put no other transit in the data
    c = signals[0]
    assert c.n_transits == 2 and 6e-4 < c.depth < 1.3e-3
    assert abs(fold(np.array([2569.39, 3790.66]), c.period, c.epoch)).max() < 0.05
    assert abs(1221.27 / c.period - round(1221.27 / c.period)) < 0.01


def test_it_finds_hd_106315_b_across_the_two_sectors(read):
    # b: 0.3 ppt, five transits with data in the two sectors 3.4 years apart
    signals = search_transits([read(f) for f in HD106315], SearchOptions(density=HD106315_RHO, max_signals=3))
    (b,) = found_near(signals, 9.5523, 2e-3)
    assert b.n_transits >= 4 and 2e-4 < b.depth < 4.5e-4


def test_it_puts_k2_and_tess_curves_of_one_star_on_tesss_clock(read):
    k2, tess = read("k2/ktwo201437844-c102_llc.fits"), read(HD106315[0])
    joint = prepare([k2, tess], quality=True)
    assert joint.mission == "TESS" and joint.target_id == tess.target_id
    # K2-109 c at BKJD 2778.15 is BTJD 611.15; both missions' cadences, K2's first
    assert joint.time.min() == pytest.approx(np.nanmin(k2.time) - 2167.0, abs=0.1)
    assert joint.time.max() == pytest.approx(np.nanmax(tess.time), abs=0.1)
    assert set(np.unique(joint.part)) == {0, 1}


def test_it_finds_wasp_151_b_and_gj_9827_b_and_d_in_k2(read):
    wasp = search_transits([read(WASP151)], SearchOptions(max_signals=1))
    assert wasp[0].period == pytest.approx(4.53347, rel=1e-3) and wasp[0].depth > 0.008
    gj = search_transits([read(GJ9827)], SearchOptions(max_signals=4))
    assert found_near(gj, 1.20897, 1e-3) and found_near(gj, 6.20181, 1e-3)


def test_it_masks_k2_thruster_firings(read):
    lc = read(GJ9827)
    assert lc.mission == "K2"
    firing = (lc.quality & ((1 << 19) | (1 << 20))) != 0
    assert firing.any()
    kept = prepare([lc], quality=True)
    assert not np.isin(lc.time[firing], kept.time).any()
    assert np.isfinite(kept.flux).all()  # NaN flux with good flags is dropped too


@pytest.mark.parametrize(
    "rel, variant",
    [(AU_MIC_S1, "scrambled"), (AU_MIC_S1, "inverted"), (WASP151, "inverted"), (WASP151, "scrambled")],
)
def test_it_reports_nothing_on_null_light_curves(read, rel, variant):
    # AU Mic inverted: its flares turn into hundreds of sharp dips, none of whose alignments may pass
    lc = prepare([read(rel)], quality=True)
    bounds = segment_bounds(lc.time, lc.part)
    t, f = lc.time, normalise(lc.flux, bounds)
    if rel == WASP151:  # remove the planet first: its transits are real in either variant
        keep = np.abs(fold(t, 4.53347, 2908.010)) > 0.25
        t, f = t[keep], f[keep]
    if variant == "inverted":
        f = 2 * np.median(f) - f
    else:  # blocks of the series in a random order, a day apart
        rng = np.random.default_rng(7)
        blocks = np.array_split(np.arange(t.size), 6)
        order = rng.permutation(6)
        parts, cursor = [], t[0]
        for k in order:
            parts.append(t[blocks[k]] - t[blocks[k]][0] + cursor)
            cursor = parts[-1][-1] + 1.0
        t, f = np.concatenate(parts), np.concatenate([f[blocks[k]] for k in order])
    found, summary = run_search(t, f, segment_bounds(t), SearchOptions(density=AU_MIC_RHO if rel == AU_MIC_S1 else None))
    assert found == [], summary["candidates"][:2]


def test_it_runs_tls_as_the_engine_of_the_tls_preset(read):
    pytest.importorskip("transitleastsquares")
    signals = search_transits([read("tess/tess2018206045859-s0001-0000000231663901-0120-s_lc.fits")], SearchOptions(preset="tls", density=stellar_density(logg=4.489, radius=0.86), max_signals=1))
    assert signals[0].period == pytest.approx(1.4304, rel=2e-3) and signals[0].snr > 50  # WASP-46 b


def test_it_tells_equal_transits_from_one_deep_event_and_from_a_lopsided_dip():
    rng = np.random.default_rng(3)
    t = np.arange(0, 30, 0.01)
    base = 1 + rng.normal(0, 1e-4, t.size)
    phase = fold(t, 5.0, 2.0)
    box = np.abs(phase) < 0.1
    equal = base - 1e-3 * box
    rest, shortfall, odd_even = event_depths(t, equal, 5.0, 2.0, 0.2, 4e-5)
    assert rest == pytest.approx(1.0, abs=0.15) and shortfall < 0 and odd_even < 4
    one = base - 6e-3 * (box & (np.abs(t - 12.0) < 0.2))  # one event carries it all
    rest, shortfall, _ = event_depths(t, one, 5.0, 2.0, 0.2, 4e-5)
    assert rest < 0.5 and shortfall > 2.5
    ramp = base - 2e-3 * box * (phase < 0)  # only the first half of each box dips
    sigma, frac = asymmetry(t, ramp, 5.0, 2.0, 0.2, 4e-5)
    assert sigma > 4 and frac > 0.5
    assert asymmetry(t, equal, 5.0, 2.0, 0.2, 4e-5)[1] < 0.2


def test_replaying_a_lifted_run_at_the_presets_thresholds_reports_what_a_run_at_them_does():
    # two planets of different strength in white noise, and a dip-free null
    rng = np.random.default_rng(11)
    t = np.arange(0, 60, 0.0204)
    flux = 1 + rng.normal(0, 3e-4, t.size)
    flux = inject_transit(t, flux, period=4.3, epoch=1.1, rp=0.03, a=12.0, inc=90.0, exp_time=0.0204)
    flux = inject_transit(t, flux, period=9.7, epoch=3.3, rp=0.025, a=20.0, inc=90.0, exp_time=0.0204)
    bounds = segment_bounds(t)
    preset = SEARCH_PRESETS["gaia"]
    lifted = SearchOptions(n_periods=4000, max_signals=3, min_sde=-np.inf, min_snr=-np.inf)
    _, summary = run_search(t, flux, bounds, lifted)
    found, _ = run_search(t, flux, bounds, SearchOptions(n_periods=4000, max_signals=3))
    replayed = replay(summary["rounds"], preset, (preset.min_sde, preset.min_snr, preset.min_snr_two))
    assert [round(c["period"], 4) for c in replayed] == [round(s.period, 4) for s in found]
    assert found_near(found, 4.3, 1e-3) and found_near(found, 9.7, 1e-3)
    assert replay(summary["rounds"], preset, (preset.min_sde, 1e3, 1e3)) == []

