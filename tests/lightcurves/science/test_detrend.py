from __future__ import annotations

import numpy as np
import pytest

from apps.lightcurves.science import _spline_fast as fast_path
from apps.lightcurves.science import _spline_kernels as kern
from apps.lightcurves.science import reference as ref
from apps.lightcurves.science._select import WORK
from apps.lightcurves.science.cleaning import segment_bounds
from apps.lightcurves.science.detrend import (
    BKSPACES,
    biweight_kernel,
    biweight_kernel_parallel,
    biweight_line_kernel,
    biweight_line_trend,
    biweight_location,
    biweight_location_pair,
    biweight_trend,
    fit_spline,
    interpolate_masked,
    search_trend,
    sorted_insert,
    sorted_mad,
    sorted_median,
    sorted_remove,
    sorted_replace,
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


def _knots(n: int, nb: int, spread: float = 1.0):
    """Sorted x reaching a little beyond [0, 1] (extrapolated ends), knots on [0, 1]."""
    x = np.sort(np.concatenate((RNG.random(n) * spread, [-0.03, 1.02])))
    h = 1.0 / (nb - 1)
    ptr = np.empty(nb, dtype=np.int64)
    fast_path.interval_starts(x, 0.0, 1.0 / h, nb, ptr)
    return x, h, ptr


@pytest.mark.parametrize("n, nb", [(300, 12), (40, 30), (5000, 2), (2000, 60)])
def test_it_walks_knot_intervals_as_the_point_by_point_lookup_assigns_them(n, nb):
    x, h, ptr = _knots(n, nb, spread=0.5)  # most intervals above 0.5 are empty
    for j in range(nb - 1):
        for k in range(ptr[j], ptr[j + 1]):
            assert kern._interval(x[k], 0.0, 1.0 / h, nb)[0] == j
    assert ptr[0] == 0 and ptr[-1] == x.size and (np.diff(ptr) >= 0).all()


@pytest.mark.parametrize("n, nb", [(300, 12), (40, 30), (5000, 2)])
def test_it_assembles_the_same_normal_equations_interval_by_interval(n, nb):
    x, h, ptr = _knots(n, nb)
    y = RNG.normal(size=x.size)
    keep = RNG.random(x.size) > 0.3
    slow_band, slow_rhs = np.zeros((nb + 2, 4)), np.zeros(nb + 2)
    slow_n = kern.assemble_normal(x, y, keep, 0.0, h, nb, slow_band, slow_rhs)
    band, rhs = np.full((nb + 2, 4), 7.0), np.full(nb + 2, 7.0)  # it zeroes them itself
    nused = fast_path.assemble_intervals(x, y, keep, 0.0, 1.0 / h, ptr, band, rhs)
    assert nused == slow_n == keep.sum()
    np.testing.assert_allclose(band, slow_band, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(rhs, slow_rhs, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("n, nb", [(300, 12), (40, 30), (5000, 2)])
def test_it_evaluates_the_same_spline_and_residuals_interval_by_interval(n, nb):
    x, h, ptr = _knots(n, nb)
    y = RNG.normal(size=x.size)
    coef = RNG.normal(size=nb + 2)
    slow = np.empty(x.size)
    kern.eval_uniform_bspline(x, coef, 0.0, h, nb, slow)
    spline, resid = np.empty(x.size), np.empty(x.size)
    fast_path.eval_intervals(x, y, coef, 0.0, 1.0 / h, ptr, spline, resid)
    np.testing.assert_allclose(spline, slow, rtol=0, atol=1e-13)
    np.testing.assert_allclose(resid, y - slow, rtol=0, atol=1e-13)


def test_it_updates_the_normal_equations_for_a_list_of_changed_points():
    x, h, _ = _knots(400, 15)
    y = RNG.normal(size=x.size)
    old = RNG.random(x.size) > 0.2
    new = old ^ (RNG.random(x.size) < 0.05)
    changed = np.flatnonzero(old != new)
    band, rhs = np.zeros((17, 4)), np.zeros(17)
    kern.assemble_normal(x, y, old, 0.0, h, 15, band, rhs)
    slow_band, slow_rhs = band.copy(), rhs.copy()
    dn = fast_path.update_changed(x, y, new, changed, changed.size, 0.0, 1.0 / h, 15, band, rhs)
    slow_dn = kern.update_normal(x, y, old, new, 0.0, h, 15, slow_band, slow_rhs)
    assert dn == slow_dn == new.sum() - old.sum()
    np.testing.assert_allclose(band, slow_band, rtol=0, atol=1e-12)
    np.testing.assert_allclose(rhs, slow_rhs, rtol=0, atol=1e-12)


@pytest.mark.parametrize("nc", [4, 5, 9, 64])
def test_it_solves_the_banded_system_as_a_dense_solver_does(nc):
    dense = np.zeros((nc, nc))
    for d in range(4):
        off = RNG.random(nc - d) * (0.3 if d else 0.0)
        dense += np.diag(off, d) + (np.diag(off, -d) if d else 0)
    dense += np.diag(2.0 + RNG.random(nc))  # diagonally dominant: positive definite
    band = np.zeros((nc, 4))
    for d in range(4):
        band[: nc - d, d] = np.diag(dense, d)
    rhs = RNG.normal(size=nc)
    coef = np.empty(nc)
    ok = kern.solve_banded(band, rhs, 100, np.empty((nc, 4)), np.empty(nc), coef)
    assert ok
    np.testing.assert_allclose(coef, np.linalg.solve(dense, rhs), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", ["normal", "outliers", "constant", "mostly_constant", "dips"])
def test_it_clips_the_same_points_as_the_obvious_robust_mean_and_lists_the_changes(case):
    y = {
        "normal": RNG.normal(size=501),
        "outliers": np.concatenate((RNG.normal(size=400), RNG.normal(30, 1, 20))),
        "constant": np.ones(50),
        "mostly_constant": np.concatenate((np.zeros(40), [5.0, -3.0, 1.0])),
        "dips": np.where(RNG.random(3000) < 0.04, -40.0, 0.0) + RNG.normal(size=3000),
    }[case]
    before = RNG.random(y.size) > 0.1
    slow_keep, fast_keep = before.copy(), before.copy()
    kern.robust_keep(y, 3.0, slow_keep, np.empty(y.size))
    changed = np.empty(y.size, dtype=np.int64)
    n = fast_path.robust_clip(
        y, 3.0, fast_keep, np.empty(y.size), np.empty(y.size), np.empty(WORK), changed
    )
    np.testing.assert_array_equal(fast_keep, slow_keep)
    np.testing.assert_array_equal(changed[:n], np.flatnonzero(slow_keep != before))


def _segment(kind: str) -> tuple[np.ndarray, np.ndarray]:
    t = np.sort(RNG.random(1500)) * 30.0
    f = 1000.0 * (1 + 0.01 * np.sin(t / 2.0)) + RNG.normal(0, 0.5, t.size)
    if kind == "eclipses":  # deep dips the clipping must remove
        f[np.abs((t % 5.0) - 2.5) < 0.15] -= 200.0
    if kind == "clipped ends":  # the end points are outliers: the knots move after clipping
        f[:3] += 300.0
        f[-2:] -= 300.0
    if kind == "gappy":  # empty knot intervals at small spacings
        keep = (t < 12.0) | (t > 12.9)
        t, f = t[keep], f[keep]
    if kind == "singular":  # a coefficient with no data under its four intervals at 0.5 d
        keep = (t < 12.0) | (t > 15.0)
        t, f = t[keep], f[keep]
    return t, f


@pytest.mark.parametrize("kind", ["plain", "eclipses", "clipped ends", "gappy", "singular"])
@pytest.mark.parametrize("bkspace", [0.5, 1.5, 20.0])
def test_it_fits_a_segment_as_the_slow_astronet_restatement_does(kind, bkspace):
    t, f = _segment(kind)
    n = t.size
    x = (t - t[0]) / (t[-1] - t[0])
    spline, keep = np.empty(n), np.zeros(n, dtype=bool)
    work = [np.empty(n) for _ in range(3)]
    status = fast_path.spline_segment(
        x, f, bkspace / (t[-1] - t[0]), 5, 3.0, spline, keep, *work,
        np.empty(n, dtype=np.int64), np.empty(WORK),
    )  # fmt: skip
    if kind == "singular" and bkspace == 0.5:
        assert status == 2  # a bad breakpoint: the spacing is skipped
        return
    slow_spline, slow_keep = ref.kepler_spline(t, f, bkspace)
    assert status == 0
    np.testing.assert_array_equal(keep, slow_keep)
    np.testing.assert_allclose(spline, slow_spline, rtol=1e-10)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the reference's std of no points
def test_it_skips_a_segment_whose_clipping_leaves_fewer_than_four_points():
    t = np.linspace(0.0, 1.0, 8)
    f = np.array([0.0, 0.0, 0.0, 100.0, 200.0, 300.0, 400.0, 500.0])
    n = t.size
    status = fast_path.spline_segment(
        t, f, 2.0, 5, 0.01, np.empty(n), np.zeros(n, dtype=bool), np.empty(n), np.empty(n),
        np.empty(n), np.empty(n, dtype=np.int64), np.empty(WORK),
    )  # fmt: skip
    assert status == 1 and ref.kepler_spline(t, f, 2.0, cut=0.01) is None


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


@pytest.mark.parametrize("position", ["end", "middle"])
def test_it_skips_a_segment_of_a_single_cadence(position):
    """A lone cadence after a gap has zero time span; it must be left unfitted, not divide by zero."""
    main = np.linspace(0, 5, 200)
    later = np.linspace(8.0, 12.0, 150)
    t = (
        np.concatenate((main, [6.5], later))
        if position == "middle"
        else np.concatenate((main, [6.5]))
    )
    f = 1 + 0.01 * np.sin(t) + RNG.normal(0, 1e-4, t.size)
    fit = fit_spline(t, f)
    assert np.isnan(fit.trend[200]) and np.isfinite(fit.trend[:200]).all()


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
