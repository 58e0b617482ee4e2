"""Injections: the AR(1) kernel vs its reference, planted transits/EBs, null tests, the harness."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage, signal, stats

from apps.ml.science import injection as inj
from apps.ml.science.errors import InjectionError
from apps.ml.science.noise import (
    _ar1_kernel,
    dr24_tces,
    invert_light_curve,
    kepler_noise_light_curves,
    red_noise,
    scramble_light_curve,
    simulated_light_curve,
)


def slow_ar1(innovations: np.ndarray, phi: float) -> np.ndarray:
    """AR(1) via a linear filter: x[i] = phi x[i-1] + e[i], started from the stationary scale."""
    start = innovations.copy()
    if start.size:
        start[0] /= np.sqrt(1 - phi**2)
    return signal.lfilter([1.0], [1.0, -phi], start)


@pytest.mark.parametrize("n, phi", [(0, 0.5), (1, 0.9), (1000, 0.0), (1000, 0.95), (37, -0.3)])
def test_it_matches_the_filter_reference_for_ar1_noise(n: int, phi: float) -> None:
    e = np.random.default_rng(n).normal(size=n)
    np.testing.assert_allclose(_ar1_kernel(e, phi), slow_ar1(e, phi), rtol=1e-12, atol=1e-12)


def test_it_draws_red_noise_with_the_asked_scatter_and_correlation() -> None:
    x = red_noise(200_000, sigma=2.0, correlation_cadences=5.0, rng=np.random.default_rng(0))
    assert x.std() == pytest.approx(2.0, rel=0.03)
    assert np.corrcoef(x[:-1], x[1:])[0, 1] == pytest.approx(np.exp(-1 / 5), abs=0.01)


def test_it_plants_a_transit_as_deep_as_the_radius_ratio_squared_without_limb_darkening() -> None:
    time = np.linspace(0, 10, 20000)
    model = inj.planted_transit(
        time,
        period=3.0,
        epoch=1.0,
        rp_rs=0.05,
        impact=0.0,
        limb_darkening=(0.0, 0.0),
        supersample=1,
    )
    assert 1 - model.min() == pytest.approx(0.05**2, rel=1e-3)
    assert model[np.abs(time - 2.5) < 0.1].min() == 1.0  # out of transit between events


def test_it_makes_limb_darkened_transits_deeper_at_the_centre() -> None:
    time = np.linspace(0.9, 1.1, 4001)
    darkened = inj.planted_transit(
        time, period=3.0, epoch=1.0, rp_rs=0.05, impact=0.0, supersample=1
    )
    assert 1 - darkened.min() > 0.05**2


def test_it_plants_an_eb_with_unequal_odd_and_even_depths_and_a_secondary() -> None:
    time = np.arange(0, 12, 0.001)
    flux = inj.planted_eclipsing_binary(
        time,
        period=2.0,
        epoch=1.0,
        odd_depth=0.02,
        even_depth=0.01,
        secondary_depth=0.004,
        supersample=1,
    )
    depth_at = lambda t: 1 - flux[np.argmin(np.abs(time - t))]  # noqa: E731
    assert depth_at(1.0) == pytest.approx(0.02, rel=1e-3) and depth_at(5.0) == pytest.approx(
        0.02, rel=1e-3
    )
    assert depth_at(3.0) == pytest.approx(0.01, rel=1e-3)
    assert depth_at(2.0) == pytest.approx(0.004, rel=1e-3)


def test_it_refuses_an_orbit_inside_the_star() -> None:
    with pytest.raises(InjectionError, match="a_rs"):
        inj.planted_transit(np.arange(10.0), period=1.0, epoch=0.0, rp_rs=0.1, a_rs=0.5)


def test_it_estimates_the_mes_of_a_box_in_white_noise() -> None:
    rng = np.random.default_rng(1)
    time = np.arange(0, 60, 0.02)
    noise = 1 + rng.normal(0, 1e-3, time.size)
    model = np.where(np.abs((time + 1.0) % 5.0 - 1.0) < 0.1, 1 - 5e-4, 1.0)  # 4.8 h box every 5 d
    n_in = (model < 1).sum()
    expected = 5e-4 * np.sqrt(n_in) / 1e-3
    assert inj.expected_mes(time, noise, model, 4.8) == pytest.approx(expected, rel=0.15)


def test_its_noise_on_a_duration_is_white_noise_over_the_cadences_in_it() -> None:
    rng = np.random.default_rng(2)
    time = np.arange(0, 100, 2 / 1440)
    flux = 1 + rng.normal(0, 1e-3, time.size)
    for hours in (1.0, 3.0, 8.0):
        n = round(hours / 24 / (2 / 1440))
        assert inj.noise_on_duration(time, flux, hours) == pytest.approx(1e-3 / np.sqrt(n), rel=0.08)


def test_its_noise_on_a_steeply_rotating_star_is_not_filtered_away() -> None:
    # 4 % spots rotating in 2 d: a running-median high-pass follows the steep flux sample by
    # sample (and would take a 2-h dip with it), so its noise came out far below the white
    # noise; the flanked quadratic keeps the white noise (the curvature over 10 h is fitted)
    rng = np.random.default_rng(3)
    time = np.arange(0, 27, 2 / 1440)
    flux = 1 + 0.04 * np.sin(2 * np.pi * time / 2.0) + rng.normal(0, 1e-3, time.size)
    white = 1e-3 / np.sqrt(60)
    assert inj.noise_on_duration(time, flux, 2.0) == pytest.approx(white, rel=0.15)


def test_its_single_event_kernel_measures_a_box_on_any_quadratic_exactly() -> None:
    kernel = inj.single_event_kernel(10)
    offsets = np.arange(kernel.size) - kernel.size // 2
    for a, b, c in ((1.0, 0.0, 0.0), (1.0, 0.3, 0.0), (0.9, -0.2, 0.05)):
        x = offsets / 50.0
        series = a + b * x + c * x * x - 1e-3 * ((offsets > -5) & (offsets <= 5))
        assert float(kernel @ series) == pytest.approx(1e-3, rel=1e-6)


def test_it_turns_dips_into_bumps_when_inverting() -> None:
    flux = np.array([1.0, 1.0, 0.9, 1.0, 1.0])
    assert invert_light_curve(flux).tolist() == pytest.approx([1.0, 1.0, 1.1, 1.0, 1.0])


def test_it_scrambles_blocks_so_a_periodic_dip_no_longer_folds() -> None:
    time = np.arange(0, 80, 0.02)
    flux = np.where(np.abs((time - 1.0 + 2.5) % 5.0 - 2.5) < 0.1, 0.99, 1.0)
    new_time, new_flux = scramble_light_curve(
        time, flux, n_blocks=8, rng=np.random.default_rng(3)
    )
    assert np.all(np.diff(new_time) > 0) and sorted(new_flux) == sorted(flux)
    in_transit = np.abs((new_time - 1.0 + 2.5) % 5.0 - 2.5) < 0.1
    assert new_flux[in_transit].mean() > 0.995  # most of the old dips now fall out of phase


def test_it_matches_scipy_for_the_christiansen_gamma_cdf() -> None:
    mes = np.array([0.0, 4.1, 7.1, 9.0, 12.0, 20.0])
    expected = stats.gamma.cdf(mes - 4.1, 4.35, scale=1.05)
    np.testing.assert_allclose(inj.christiansen_efficiency(mes), expected, atol=1e-12)
    assert inj.christiansen_efficiency(np.array([100.0]))[0] == pytest.approx(1.0)


def test_it_masks_the_dr24_events_in_real_kepler_noise(demo_data) -> None:
    curves = kepler_noise_light_curves(demo_data)
    assert [name for name, _, _ in curves] == ["KIC 2306740", "KIC 8462852"]
    _, time, flux = curves[0]
    for period, epoch, hours in dr24_tces(demo_data, 2306740):
        phase = np.abs((time - epoch + period / 2) % period - period / 2)
        assert phase.min() > hours / 24 / 2
    assert np.all(np.isfinite(flux)) and abs(np.median(flux) - 1) < 1e-3


def _bls_search(time: np.ndarray, flux: np.ndarray) -> list[tuple[float, float, float]]:
    """A stand-in for the light-curve search: astropy BLS, strongest peak if its SDE exceeds 9."""
    from astropy.timeseries import BoxLeastSquares

    flux = flux / ndimage.median_filter(flux, size=49, mode="nearest")  # ~1-day high-pass
    bls = BoxLeastSquares(time, flux)
    result = bls.power(np.exp(np.linspace(np.log(1.0), np.log(8.0), 4000)), [0.08, 0.12, 0.16])
    sde = (result.power - result.power.mean()) / result.power.std()
    best = int(np.argmax(sde))
    if sde[best] < 9:
        return []
    return [
        (
            float(result.period[best]),
            float(result.transit_time[best]),
            float(result.duration[best] * 24),
        )
    ]


def test_it_recovers_strong_planted_transits_and_misses_faint_ones() -> None:
    rng = np.random.default_rng(5)
    time, flux = simulated_light_curve(
        days=30, variability_ppm=0, red_ppm=0, white_ppm=300, rng=rng
    )
    curves = [("sim", time, flux)]
    strong = inj.injection_recovery(
        _bls_search,
        curves,
        n_per_light_curve=3,
        rng=rng,
        period_range=(1.0, 8.0),
        rp_rs_range=(0.04, 0.05),
    )
    faint = inj.injection_recovery(
        _bls_search,
        curves,
        n_per_light_curve=3,
        rng=rng,
        period_range=(1.0, 8.0),
        rp_rs_range=(0.002, 0.0025),
    )
    assert all(i.recovered for i in strong) and min(i.mes for i in strong) > 10
    assert not any(i.recovered for i in faint) and max(i.mes for i in faint) < 3


def test_it_counts_false_positives_per_null_test_variant() -> None:
    rng = np.random.default_rng(6)
    time, flux = simulated_light_curve(days=20, rng=rng)
    always = lambda t, f: [(2.0, float(t[0]), 3.0)]  # noqa: E731
    report = inj.false_positive_rates(
        always,
        [("sim", time, flux)],
        rng=rng,
        n_scrambles=2,
        classify_fn=lambda t, f, d: 0.7,
        threshold=0.5,
    )
    assert report["null"]["false_positives"] == 1 and report["inverted"]["light_curves"] == 1
    assert (
        report["scrambled"]["light_curves"] == 2
        and report["scrambled"]["false_positives_per_light_curve"] == 1.0
    )


def test_it_bins_recall_by_mes() -> None:
    curve = inj.recall_curve(
        np.array([1, 2, 8, 9, 9.5]), np.array([0, 0, 1, 0, 1]), np.array([0, 5, 10])
    )
    assert curve["count"].tolist() == [2, 3] and curve["recall"].tolist() == pytest.approx(
        [0, 2 / 3]
    )


def test_it_recovers_a_transit_planted_in_real_kepler_noise(demo_data) -> None:
    name, time, flux = kepler_noise_light_curves(demo_data)[1]  # Boyajian's star, Q13 + Q15
    rng = np.random.default_rng(8)
    found = inj.injection_recovery(
        _bls_search,
        [(name, time, flux)],
        n_per_light_curve=1,
        rng=rng,
        period_range=(2.0, 6.0),
        rp_rs_range=(0.03, 0.03),
    )
    assert found[0].detected and found[0].mes > 10
    assert found[0].light_curve == "KIC 8462852"
