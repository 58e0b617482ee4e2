from __future__ import annotations

import numpy as np
import pytest

from apps.lightcurves.science import _spline_kernels as kern
from apps.lightcurves.science import reference as ref
from apps.lightcurves.science.cleaning import segment_bounds
from apps.lightcurves.science.detrend import (
    BKSPACES,
    biweight_kernel,
    biweight_trend,
    fit_spline,
    sorted_mad,
    sorted_median,
)
from apps.lightcurves.science.errors import InsufficientData, InvalidInput
from apps.lightcurves.science.pipeline import prepare

RNG = np.random.default_rng(42)


def test_it_tries_astronets_twenty_spacings_from_half_a_day_to_twenty_days():
    assert (
        BKSPACES.size == 20
        and BKSPACES[0] == pytest.approx(0.5)
        and BKSPACES[-1] == pytest.approx(20.0)
    )


@pytest.mark.parametrize("n", [1, 2, 5, 6, 101, 1000])
def test_it_computes_the_same_median_as_numpy_on_ties_and_odd_and_even_sizes(n):
    for values in (RNG.normal(size=n), RNG.integers(0, 3, n).astype(float)):
        assert kern.median_inplace(values.copy()) == np.median(values)


@pytest.mark.parametrize("n, span", [(4, 0.3), (60, 3.0), (2000, 40.0)])
def test_it_fits_the_same_least_squares_spline_as_scipy(n, span):
    x = np.sort(RNG.random(n)) * span
    y = np.sin(x) + RNG.normal(0, 0.1, n)
    keep = RNG.random(n) > 0.2 if n > 10 else np.ones(n, dtype=bool)
    xm = x[keep]
    slow = ref.lsq_bspline(xm, y[keep], 1.0)(x)
    nb = max(int((xm.max() - xm.min()) / 1.0) + 1, 2)
    coef, ok = kern.fit_uniform_bspline(x, y, keep, xm.min(), (xm.max() - xm.min()) / (nb - 1), nb)
    fast = np.empty(n)
    kern.eval_uniform_bspline(x, coef, xm.min(), (xm.max() - xm.min()) / (nb - 1), nb, fast)
    assert ok
    np.testing.assert_allclose(fast, slow, rtol=0, atol=1e-9)


@pytest.mark.parametrize("flip", [0.0, 0.05, 0.5, 1.0])
def test_it_updates_the_normal_equations_to_those_of_a_fresh_assembly(flip):
    n, nb = 300, 12
    x = np.sort(RNG.random(n))
    y = RNG.normal(size=n)
    old = RNG.random(n) > 0.3
    new = old ^ (RNG.random(n) < flip)
    h = 1.0 / (nb - 1)
    band, rhs = np.zeros((nb + 2, 4)), np.zeros(nb + 2)
    nused = kern.assemble_normal(x, y, old, 0.0, h, nb, band, rhs)
    nused += kern.update_normal(x, y, old, new, 0.0, h, nb, band, rhs)
    slow_band, slow_rhs = np.zeros((nb + 2, 4)), np.zeros(nb + 2)
    slow_n = kern.assemble_normal(x, y, new, 0.0, h, nb, slow_band, slow_rhs)
    # the dense normal matrix B^T B from an explicit design matrix, as a slow reference
    design = np.zeros((n, nb + 2))
    for k in np.flatnonzero(new):
        i = min(int(x[k] / h), nb - 2)
        design[k, i : i + 4] = kern.basis4(x[k] / h - i)
    dense = design.T @ design
    assert nused == slow_n == new.sum()
    np.testing.assert_allclose(band, slow_band, rtol=0, atol=1e-10)
    np.testing.assert_allclose(rhs, slow_rhs, rtol=0, atol=1e-10)
    np.testing.assert_allclose(rhs, design.T @ y, rtol=0, atol=1e-10)
    for d in range(4):
        np.testing.assert_allclose(band[: nb + 2 - d, d], np.diag(dense, d), rtol=0, atol=1e-10)


def test_it_reports_a_singular_fit_when_a_knot_interval_has_no_data():
    x = np.array([0.0, 0.01, 0.02, 0.03, 9.97, 9.98, 9.99, 10.0])
    _, ok = kern.fit_uniform_bspline(x, x, np.ones(8, dtype=bool), 0.0, 1.0, 11)
    assert not ok


@pytest.mark.parametrize("case", ["normal", "outliers", "constant", "mostly_constant"])
def test_it_keeps_the_same_points_as_astronets_robust_mean(case):
    y = {
        "normal": RNG.normal(size=501),
        "outliers": np.concatenate((RNG.normal(size=400), RNG.normal(30, 1, 20))),
        "constant": np.ones(50),
        "mostly_constant": np.concatenate((np.zeros(40), [5.0, -3.0, 1.0])),
    }[case]
    keep = np.ones(y.size, dtype=bool)
    kern.robust_keep(y, 3.0, keep, np.empty(y.size))
    np.testing.assert_array_equal(keep, ref.robust_mean_mask(y, 3.0))


def test_it_chooses_the_same_spacing_and_spline_as_the_slow_astronet_restatement(eb_quarters):
    lc = prepare(eb_quarters[1:3], quality=False)
    bounds = segment_bounds(lc.time, lc.part)
    fast = fit_spline(lc.time, lc.flux, bounds=bounds)
    segs = [(lc.time[a:b], lc.flux[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    spline, bkspace, bics = ref.choose_kepler_spline(
        [s[0] for s in segs], [s[1] for s in segs], BKSPACES
    )
    assert fast.bkspace == bkspace
    np.testing.assert_allclose(fast.bic, bics, rtol=1e-9)
    np.testing.assert_allclose(fast.trend, np.concatenate(spline), rtol=1e-9)


def test_it_skips_segments_with_fewer_than_four_points():
    t = np.concatenate((np.linspace(0, 5, 200), [7.0, 7.1, 7.2]))
    f = 1 + 0.01 * np.sin(t) + RNG.normal(0, 1e-4, t.size)
    fit = fit_spline(t, f)
    assert np.isnan(fit.trend[-3:]).all() and np.isfinite(fit.trend[:200]).all()


def test_it_keeps_a_planted_deep_transit_out_of_the_masked_trend():
    t = np.arange(0, 30, 0.0204)
    trend = 1 + 0.003 * np.sin(2 * np.pi * t / 7.0)
    inside = np.abs((t - 3.0 + 2.5) % 5.0 - 2.5) < 0.15
    f = trend * np.where(inside, 0.7, 1.0) * (1 + RNG.normal(0, 2e-4, t.size))
    masked = fit_spline(t, f, transit_mask=np.abs((t - 3.0 + 2.5) % 5.0 - 2.5) < 0.3)
    flat = f / masked.trend
    assert np.median(flat[inside]) == pytest.approx(0.7, abs=0.002)
    assert np.max(np.abs(masked.trend / trend - 1)[~inside]) < 1e-3


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
