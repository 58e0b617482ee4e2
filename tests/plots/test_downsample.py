"""Downsampling keeps the dips a vetter needs to see."""

import numpy as np
import pytest

from apps.plots.downsample import minmax_downsample


def test_it_keeps_a_short_transit_that_striding_would_miss():
    x = np.linspace(0, 1000, 60000)
    y = np.ones_like(x)
    y[30001:30007] = 0.99
    keep = minmax_downsample(x, y, 1000)
    assert keep.size <= 1000
    assert y[keep].min() == pytest.approx(0.99)
    assert y[::60].min() == 1.0


def test_it_returns_everything_finite_when_small_and_skips_nans():
    y = np.array([1.0, np.nan, 2.0, 3.0])
    assert list(minmax_downsample(np.arange(4.0), y, 10)) == [0, 2, 3]


def test_it_refuses_fewer_than_two_points():
    with pytest.raises(ValueError):
        minmax_downsample(np.arange(3.0), np.arange(3.0), 1)
