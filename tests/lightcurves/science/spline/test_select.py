"""The order-statistic kernels against numpy: exact medians whatever the data."""

from __future__ import annotations

import numpy as np
import pytest

from apps.lightcurves.science.spline.select import (
    SAMPLE,
    WORK,
    count_below,
    median,
    median_inplace,
    median_sampled,
    sample_pivots,
    select_inplace,
)

RNG = np.random.default_rng(11)


def _cases(n: int) -> dict[str, np.ndarray]:
    tails = RNG.standard_t(2, n)
    tails[::7] = 5.0  # a block of exact ties off-centre
    return {
        "normal": RNG.normal(size=n),
        "three values": RNG.integers(0, 3, n).astype(float),
        "constant": np.ones(n),
        "ascending": np.sort(RNG.normal(size=n)),
        "descending": np.sort(RNG.normal(size=n))[::-1].copy(),
        "heavy tails and ties": tails,
        "deep dips": np.where(RNG.random(n) < 0.05, -50.0, 0.0) + RNG.normal(size=n),
    }


@pytest.mark.parametrize("n", [1, 2, 3, 16, 17, 18, 127, 128, 129, 1000, 1523, 4001])
def test_it_takes_the_same_median_as_numpy_bit_for_bit(n):
    for name, values in _cases(n).items():
        expected = np.median(values)
        assert median_sampled(values, np.empty(n), np.empty(WORK)) == expected, name
        assert median_inplace(values.copy()) == expected, name
        assert median(values) == expected, name


@pytest.mark.parametrize("n", [1, 5, 17, 40, 300, 2000])
def test_it_puts_the_kth_value_in_place_with_smaller_values_before_it(n):
    for name, values in _cases(n).items():
        k = int(RNG.integers(0, n))
        a = values.copy()
        v = select_inplace(a, k)
        assert v == np.sort(values)[k] == a[k], name
        assert (a[:k] <= v).all() and (a[k:] >= v).all(), name
        np.testing.assert_array_equal(np.sort(a), np.sort(values))


def test_it_returns_nan_for_an_empty_or_nan_holding_array():
    assert np.isnan(median(np.array([])))
    assert np.isnan(median(np.array([1.0, np.nan, 2.0])))


def test_it_draws_pivots_that_are_the_samples_order_statistics():
    values = RNG.normal(size=1000)
    piv = sample_pivots(values, 0.5, np.empty(WORK))
    ordered = np.sort(values[((np.arange(SAMPLE) + 0.5) * 1000 / SAMPLE).astype(int)])
    np.testing.assert_array_equal(piv, ordered[16 + np.array([-6, -4, -2, -1, 0, 1, 3, 5])])


def test_it_counts_the_values_below_each_pivot():
    values = RNG.normal(size=777)
    piv = np.array([-np.inf, -1.0, -0.1, 0.0, 0.0, 0.2, 2.0, np.inf])
    cnt = np.empty(8, dtype=np.int64)
    count_below(values, piv, cnt)
    np.testing.assert_array_equal(cnt, [(values < p).sum() for p in piv])
