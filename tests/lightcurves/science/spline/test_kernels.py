from __future__ import annotations

import numpy as np
import pytest

from apps.lightcurves.science.spline import fast as fast_path
from apps.lightcurves.science.spline import obvious as kern
from apps.lightcurves.science.spline import reference as ref
from apps.lightcurves.science.spline.basis import basis4, interval, solve_banded
from apps.lightcurves.science.spline.select import WORK, median_inplace

RNG = np.random.default_rng(42)


@pytest.mark.parametrize("n", [1, 2, 5, 6, 101, 1000])
def test_it_computes_the_same_median_as_numpy_on_ties_and_odd_and_even_sizes(n):
    for values in (RNG.normal(size=n), RNG.integers(0, 3, n).astype(float)):
        assert median_inplace(values.copy()) == np.median(values)


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
        design[k, i : i + 4] = basis4(x[k] / h - i)
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
            assert interval(x[k], 0.0, 1.0 / h, nb)[0] == j
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
    ok = solve_banded(band, rhs, 100, np.empty((nc, 4)), np.empty(nc), coef)
    assert ok
    np.testing.assert_allclose(coef, np.linalg.solve(dense, rhs), rtol=1e-12, atol=1e-12)


def _residuals(case: str) -> np.ndarray:
    """Residuals for the clipping tests: plain, with outliers, (mostly) constant, deep dips."""
    if case == "normal":
        return RNG.normal(size=501)
    if case == "outliers":
        return np.concatenate((RNG.normal(size=400), RNG.normal(30, 1, 20)))
    if case == "constant":
        return np.ones(50)
    if case == "mostly_constant":
        return np.concatenate((np.zeros(40), [5.0, -3.0, 1.0]))
    return np.where(RNG.random(3000) < 0.04, -40.0, 0.0) + RNG.normal(size=3000)


@pytest.mark.parametrize("case", ["normal", "outliers", "constant", "mostly_constant", "dips"])
def test_it_clips_the_same_points_as_the_obvious_robust_mean_and_lists_the_changes(case):
    y = _residuals(case)
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
    y = _residuals(case)
    keep = np.ones(y.size, dtype=bool)
    kern.robust_keep(y, 3.0, keep, np.empty(y.size))
    np.testing.assert_array_equal(keep, ref.robust_mean_mask(y, 3.0))
