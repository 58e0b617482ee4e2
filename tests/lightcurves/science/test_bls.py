from __future__ import annotations

import numba
import numpy as np
import pytest

from apps.lightcurves.science.bls import bls, bls_kernel, bls_reference, fold_periods, grid_series
from apps.lightcurves.science.errors import InvalidInput
from apps.lightcurves.science.views import fold

RNG = np.random.default_rng(3)


def run_kernel(t, y, w, delta, periods, dur_bins):
    m = int((t.max() - t.min()) / delta) + 1
    gy, gw = grid_series(t, y, w, t.min(), delta, m)
    out = [np.empty(periods.size) for _ in range(2)] + [
        np.empty(periods.size, dtype=np.int64) for _ in range(2)
    ]
    bls_kernel(gy, gw, delta, periods, dur_bins, *out)
    return out, m


@pytest.mark.parametrize("n", [3, 50, 400])
def test_it_matches_the_slow_bls_on_random_data_with_gaps(n):
    t = np.sort(RNG.uniform(0, 20, n))
    t = t[(t < 8) | (t > 11)]  # a gap
    y = RNG.normal(size=t.size)
    w = RNG.uniform(0.5, 2, t.size)
    periods = np.array([0.9, 1.3, 2.7, 4.1, 5.55])
    dur_bins = np.array([1, 2, 3, 5])
    (power, depth, start, dur), m = run_kernel(t, y, w, 0.05, periods, dur_bins)
    slow = bls_reference(t, y, w, t.min(), 0.05, m, periods, dur_bins)
    np.testing.assert_allclose(power, slow[0], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(depth, slow[1], rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(start, slow[2])
    np.testing.assert_array_equal(dur, slow[3])


def test_it_skips_empty_stretches_of_the_grid_and_still_matches_the_slow_bls():
    # two "sectors" years apart: whole CHUNKs of empty cells between them are skipped
    rng = np.random.default_rng(14)  # its own generator: RNG's draws feed the other tests
    t = np.sort(np.concatenate([rng.uniform(0, 27, 600), rng.uniform(1250, 1277, 600)]))
    y = rng.normal(size=t.size)
    w = np.ones(t.size)
    periods = np.array([0.93, 3.7, 9.552, 21.06, 40.3])
    dur_bins = np.array([1, 3, 6])
    (power, depth, start, dur), m = run_kernel(t, y, w, 0.02, periods, dur_bins)
    assert m > 10 * 4096  # many empty chunks
    slow = bls_reference(t, y, w, t.min(), 0.02, m, periods, dur_bins)
    np.testing.assert_allclose(power, slow[0], rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(start, slow[2])
    np.testing.assert_array_equal(dur, slow[3])


def test_it_returns_no_box_for_constant_flux():
    t = np.linspace(0, 10, 300)
    res = bls(t, np.ones_like(t), np.array([1.0, 2.0]), np.array([0.1]))
    assert np.all(res.power == 0) and np.isnan(res.epoch).all()


def test_it_recovers_a_planted_box_transit_in_white_noise():
    t = np.sort(RNG.uniform(0, 60, 6000))
    flux = 1 + RNG.normal(0, 1e-3, t.size)
    flux[np.abs(fold(t, 4.321, 2.5)) < 0.06] -= 2e-3
    res = bls(t, flux, np.geomspace(1, 10, 4000), np.array([0.05, 0.12, 0.2]))
    i = res.best
    assert res.periods[i] == pytest.approx(4.321, rel=1e-3)
    assert abs(fold(np.array([res.epoch[i]]), 4.321, 2.5)[0]) < 0.03
    assert res.depth[i] == pytest.approx(2e-3, rel=0.25)


def test_it_finds_the_same_best_period_as_astropy():
    bls_astropy = pytest.importorskip("astropy.timeseries").BoxLeastSquares
    t = np.arange(0, 80, 0.0204)
    flux = 1 + RNG.normal(0, 5e-4, t.size)
    flux[np.abs(fold(t, 6.77, 1.1)) < 0.08] -= 1e-3
    periods, durations = np.geomspace(1, 20, 3000), np.array([0.08, 0.16, 0.25])
    ours = bls(t, flux, periods, durations)
    theirs = bls_astropy(t, flux).power(periods, durations, objective="likelihood")
    assert ours.periods[ours.best] == theirs.period[np.argmax(theirs.power)]


@pytest.mark.parametrize(
    "periods, durations",
    [
        (np.array([0.1, 1.0]), np.array([0.2])),
        (np.array([-1.0]), np.array([0.1])),
        (np.array([]), np.array([0.1])),
    ],
)
def test_it_rejects_impossible_grids(periods, durations):
    with pytest.raises(InvalidInput):
        bls(np.linspace(0, 10, 100), np.ones(100), periods, durations)


def test_it_rejects_empty_or_nan_series():
    with pytest.raises(InvalidInput):
        bls(np.array([]), np.array([]), np.array([1.0]), np.array([0.1]))
    with pytest.raises(InvalidInput):
        bls(np.array([0.0, 1.0]), np.array([1.0, np.nan]), np.array([1.0]), np.array([0.1]))


def test_it_folds_the_same_sums_whatever_the_chunk_size():
    g = RNG.normal(size=2 * 500)
    o = np.array([3.3, 17.9, 41.05])
    width = int(np.ceil(o.max())) + 1
    whole, chunked = np.zeros((3, 2 * width)), np.zeros((3, 2 * width))
    fold_periods(g, o, 500, whole)
    fold_periods(g, o, 7, chunked)
    np.testing.assert_array_equal(whole, chunked)


def test_it_gives_the_same_periodogram_on_one_thread_and_on_all():
    t = np.sort(RNG.uniform(0, 30, 3000))
    y = RNG.normal(size=t.size)
    periods = np.geomspace(0.7, 9, 101)
    many, _ = run_kernel(t, y, np.ones_like(t), 0.02, periods, np.array([2, 5]))
    numba.set_num_threads(1)
    try:
        one, _ = run_kernel(t, y, np.ones_like(t), 0.02, periods, np.array([2, 5]))
    finally:
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    for a, b in zip(many, one, strict=True):
        np.testing.assert_array_equal(a, b)
