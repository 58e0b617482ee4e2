from __future__ import annotations

import numpy as np
import pytest

from apps.lightcurves.science import reference as ref
from apps.lightcurves.science.biweight import (
    biweight_kernel,
    biweight_kernel_parallel,
    biweight_line_kernel,
    biweight_location,
    biweight_location_pair,
    sorted_insert,
    sorted_mad,
    sorted_median,
    sorted_remove,
    sorted_replace,
)
from apps.lightcurves.science.cleaning import interpolate_masked
from apps.lightcurves.science.detrend import biweight_line_trend, biweight_trend, search_trend
from apps.lightcurves.science.errors import InsufficientData, InvalidInput
from apps.lightcurves.science.significance import red_noise_snr
from apps.lightcurves.science.spline import fit_spline
from apps.lightcurves.science.views import fold

RNG = np.random.default_rng(42)


def test_it_computes_the_same_sliding_biweight_as_the_slow_reference():
    t = np.sort(RNG.random(400)) * 8
    f = 1 + 0.01 * np.sin(t) + RNG.normal(0, 1e-3, t.size)
    f[::37] -= 0.05  # outliers the biweight should ignore
    fast = np.empty(t.size)
    biweight_kernel(t, f, np.array([0, t.size]), 0.25, 5.0, 10, 1e-6, fast)
    np.testing.assert_allclose(fast, ref.biweight_trend(t, f, 0.25), atol=1e-12)


def test_it_matches_the_slow_biweight_with_ties_two_segments_and_short_runs():
    t = np.concatenate([np.sort(RNG.random(150)) * 3, 10 + np.sort(RNG.random(120)) * 2])
    f = np.round(1 + RNG.normal(0, 2e-3, t.size), 3)  # few distinct values: many ties
    fast = np.empty(t.size)
    biweight_kernel(t, f, np.array([0, 150, t.size]), 0.2, 5.0, 10, 1e-6, fast, 37)
    slow = np.concatenate(
        [ref.biweight_trend(t[:150], f[:150], 0.2), ref.biweight_trend(t[150:], f[150:], 0.2)]
    )
    np.testing.assert_allclose(fast, slow, atol=1e-12)


@pytest.mark.parametrize("n", [1, 2, 5, 8, 31])
def test_it_takes_the_median_and_mad_of_a_sorted_window_as_numpy_does(n):
    s = np.sort(RNG.normal(0, 1, n))
    med = sorted_median(s)
    assert med == np.median(s) and sorted_mad(s, med) == pytest.approx(
        np.median(np.abs(s - med)), abs=1e-15
    )


def test_it_computes_the_same_biweight_on_threads_as_on_one():
    t = np.concatenate([np.sort(RNG.random(3000)) * 40, 50 + np.sort(RNG.random(2000)) * 30])
    f = 1 + 0.01 * np.sin(t) + RNG.normal(0, 1e-3, t.size)
    bounds = np.array([0, 3000, t.size])
    one, many = np.empty(t.size), np.empty(t.size)
    biweight_kernel(t, f, bounds, 0.25, 5.0, 10, 1e-6, one, 300)
    biweight_kernel_parallel(t, f, bounds, 0.25, 5.0, 10, 1e-6, many, 300)
    np.testing.assert_array_equal(one, many)
    np.testing.assert_array_equal(biweight_trend(t, f, parallel=True), biweight_trend(t, f))


def test_it_handles_single_points_and_gaps_in_the_biweight():
    t = np.array([0.0, 0.1, 0.2, 5.0])
    out = biweight_trend(t, np.array([1.0, 2.0, 1.5, 7.0]), window_days=0.5)
    assert out[-1] == 7.0 and np.isfinite(out).all()


@pytest.mark.parametrize(
    "time, flux, error",
    [
        ([], [], InsufficientData),
        ([0.0, 1.0], [1.0, np.nan], InvalidInput),
        ([1.0, 0.0], [1.0, 1.0], InvalidInput),
    ],
)
def test_it_rejects_empty_nan_or_unsorted_series(time, flux, error):
    with pytest.raises(error):
        fit_spline(time, flux)
    with pytest.raises(error):
        biweight_trend(time, flux)


def test_it_fits_a_series_without_point_to_point_scatter():
    """A constant series (e.g. a centroid column with no motion) must not divide by zero."""
    import numpy as np

    from apps.lightcurves.science.io import LightCurve
    from apps.lightcurves.science.pipeline import flatten_lightcurves

    n = 3000
    time = np.linspace(0.0, 60.0, n)
    flux = 1000.0 + np.random.default_rng(0).normal(0.0, 1.0, n)
    zeros = np.zeros(n)
    curve = LightCurve(
        time=time,
        flux=flux,
        flux_err=np.ones(n),
        sap_flux=flux,
        sap_flux_err=np.ones(n),
        centroid_col=zeros,
        centroid_row=zeros,
        quality=np.zeros(n, np.int64),
        mission="Kepler",
        target_id=1,
        segment=1,
        part=np.zeros(n, np.int64),
    )
    flat = flatten_lightcurves([curve])
    assert np.isfinite(flat.flux).all()
    assert np.allclose(flat.centroid_col[np.isfinite(flat.centroid_col)], 0.0, atol=1e-6)


def _slow_interpolate(time, flux, masked, bounds):
    out, dead = flux.copy(), np.zeros(flux.size, dtype=bool)
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        m = masked[a:b]
        if m.all():
            dead[a:b] = True
        elif m.any():
            out[a:b][m] = np.interp(time[a:b][m], time[a:b][~m], flux[a:b][~m])
    return out, dead


def test_it_bridges_masked_cadences_as_numpys_interp_does():
    t = np.sort(RNG.random(3000)) * 60
    f = RNG.normal(size=t.size)
    masked = np.abs((t % 7.0) - 3.5) < 0.4
    masked[:5] = masked[-7:] = True  # runs at segment ends take the nearest value
    masked[1500:1600] = True
    bounds = np.array([0, 1000, 1500, 1600, t.size])  # the third segment is all masked
    fast, dead = interpolate_masked(t, f, masked, bounds)
    slow, slow_dead = _slow_interpolate(t, f, masked, bounds)
    np.testing.assert_array_equal(dead, slow_dead)
    np.testing.assert_array_equal(fast, slow)


def test_it_keeps_a_window_sorted_through_replacements_removals_and_insertions():
    buf, n, window = np.empty(64), 0, []
    for _ in range(2000):
        action = RNG.integers(0, 3) if window else 2
        v = float(RNG.integers(0, 6))  # few distinct values: many ties
        if action == 0:
            old = window.pop(int(RNG.integers(0, len(window))))
            sorted_replace(buf, n, old, v)
            window.append(v)
        elif action == 1:
            n = sorted_remove(buf, n, window.pop(int(RNG.integers(0, len(window)))))
        elif len(window) < 60:
            n = sorted_insert(buf, n, v)
            window.append(v)
        np.testing.assert_array_equal(buf[:n], np.sort(window))


@pytest.mark.parametrize("mads", [(3e-3, 2e-3), (0.0, 2e-3), (3e-3, 0.0)])
def test_it_iterates_two_windows_together_as_it_would_each_alone(mads):
    x = 1 + RNG.normal(0, 2e-3, 60)
    x[::9] -= 0.05  # outliers the weights drop
    windows = ((3, 40), (5, 44))
    meds = [np.median(x[a:b]) for a, b in windows]
    pair = biweight_location_pair(
        x, *windows[0], *windows[1], meds[0], mads[0], meds[1], mads[1], 5.0, 10, 1e-9
    )
    for (a, b), med, mad, loc in zip(windows, meds, mads, pair, strict=True):
        assert loc == pytest.approx(biweight_location(x[a:b], med, mad, 5.0, 10, 1e-9), abs=1e-14)


def test_it_fits_the_same_sliding_robust_line_as_the_slow_reference():
    rng = np.random.default_rng(5)
    t = np.sort(rng.uniform(0, 6, 900))
    f = 1 + 0.01 * np.sin(2 * np.pi * t / 2.3) + rng.normal(0, 1e-3, t.size)
    f[::41] += 0.02  # flares the robust line should ignore
    for stride in (1, 4):
        fast = np.empty(t.size)
        biweight_line_kernel(t, f, np.array([0, t.size]), 0.3, 5.0, 10, 1e-7, stride, fast)
        np.testing.assert_allclose(fast, ref.biweight_line_trend(t, f, 0.3, stride=stride), atol=1e-9)


def test_it_keeps_a_transit_on_a_steep_spot_slope_that_a_biweight_location_follows():
    # a 3-ppt, 3.5-h transit on a 3 %/d slope (a young star): the window's spread is the slope
    t = np.arange(0, 6, 2 / 1440)
    rng = np.random.default_rng(6)
    f = 1 + 0.03 * t + rng.normal(0, 3e-4, t.size)
    inside = np.abs(t - 3.0) < 0.073
    f[inside] -= 3e-3
    line = biweight_line_trend(t, f, window_days=0.45)
    loc = biweight_trend(t, f, window_days=0.45)
    kept_line = np.median((1 - f / line)[inside])
    kept_loc = np.median((1 - f / loc)[inside])
    assert kept_line == pytest.approx(3e-3, rel=0.15)
    assert kept_loc < 0.8 * kept_line


def test_it_twices_the_search_trend_so_a_fast_rotation_leaves_a_percent():
    # 1-d rotation of 1 %, 0.25-d window: one biweight keeps ~10 %, twicing ~1 %
    t = np.arange(0, 10, 10 / 1440)
    f = 1 + 0.01 * np.sin(2 * np.pi * t)
    once = search_trend(t, f, window_days=0.25, twice=False, clip_sigma=0)
    twice = search_trend(t, f, window_days=0.25, clip_sigma=0)
    core = (t > 1) & (t < 9)
    assert np.abs(f / once.trend - 1)[core].max() > 5e-4
    assert np.abs(f / twice.trend - 1)[core].max() < 2e-4


def test_it_clips_flares_but_never_dips_from_the_search_trend():
    rng = np.random.default_rng(8)
    t = np.arange(0, 5, 2 / 1440)
    f = 1 + rng.normal(0, 5e-4, t.size)
    f[1000:1010] += 0.01  # a flare
    dip = np.abs(t - 3.0) < 0.05
    f[dip] -= 0.004  # a transit
    out = search_trend(t, f, window_days=0.5)
    assert out.flares[1000:1010].all() and not out.flares[dip].any()
    assert np.median((1 - f / out.trend)[dip]) == pytest.approx(0.004, rel=0.3)


def test_it_leaves_masked_transits_out_of_the_trend_so_their_snr_is_what_was_planted():
    # 2-min cadence, 1e-3 point scatter, a 1-ppt, 2.4-h transit every 1.42 d: bridging each
    # masked run in the flux from the two cadences beside it put their 1e-3 scatter into the
    # trend and halved the measured SNR; left out of the fit, the SNR is the planted one
    rng = np.random.default_rng(5)
    t = np.arange(0, 27, 2 / 1440)
    period, epoch, duration = 1.42, 0.5, 0.1
    phase = fold(t, period, epoch)
    f = 1 + rng.normal(0, 1e-3, t.size) - 1e-3 * (np.abs(phase) < duration / 2)
    out = search_trend(t, f, window_days=0.9, mask=np.abs(phase) < 1.5 * duration, clip_sigma=0)
    depth, snr, _, _ = red_noise_snr(t, f / out.trend, period, epoch, duration)
    planted = 1e-3 * np.sqrt((np.abs(phase) < duration / 2).sum()) / 1e-3
    assert depth == pytest.approx(1e-3, rel=0.1)
    assert snr == pytest.approx(planted, rel=0.15)


def test_it_keeps_a_masked_segment_at_its_own_level():
    t = np.arange(0, 4, 0.01)
    f = np.where(t < 2, 1.0, 1.01)
    bounds = np.array([0, 200, t.size])
    out = search_trend(t, f, window_days=0.5, bounds=bounds, mask=t >= 2, clip_sigma=0)
    assert np.allclose(out.trend[t >= 2], 1.01) and np.allclose(out.trend[t < 2], 1.0)
