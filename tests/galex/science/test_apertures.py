"""Aperture stamps: the kernels against photutils (the slow reference) and a planted source."""

from __future__ import annotations

import numpy as np
import pytest

from apps.galex.science.apertures import aperture_stamps
from apps.galex.science.photometry import aperture_flags, aperture_sums

SHAPE = (80, 90)
# inside, on every edge, partly off each side, a corner, wholly off (NaN in photutils)
POSITIONS = np.array([[45.3, 40.7], [0.0, 40.0], [89.0, 10.2], [30.4, 0.0], [12.0, 79.0], [-3.2, 50.5],
                      [92.1, 30.0], [-2.0, -2.5], [60.0, 85.0], [-40.0, 10.0], [20.0, 200.0]])  # fmt: skip


@pytest.mark.parametrize("radius", [0.7, 3.0, 12.8 / 1.5, 16.9])
def test_sums_match_photutils_on_a_random_frame(radius):
    rng = np.random.default_rng(7)
    frame = rng.poisson(3.0, SHAPE).astype(np.float32) * rng.uniform(0.5, 1.5, SHAPE).astype(np.float32)
    stamps = aperture_stamps(POSITIONS, radius, SHAPE)
    expected = aperture_sums(frame.astype(np.float64), POSITIONS, radius)
    got = stamps.sums(frame)
    assert got.dtype == np.float32
    assert np.isnan(got[-2:]).all() and np.isnan(expected[-2:]).all()
    np.testing.assert_allclose(got, expected, rtol=1e-6, equal_nan=True)


@pytest.mark.parametrize("radius", [1.2, 6.0, 12.8 / 1.5])
def test_flags_match_photutils_bit_sums(radius):
    rng = np.random.default_rng(3)
    flag = np.zeros(SHAPE, np.uint8)
    hits = rng.integers(0, SHAPE[0] * SHAPE[1], 60)
    flag.flat[hits] = rng.integers(1, 32, hits.size).astype(np.uint8)  # bit 4 is not an artifact bit
    stamps = aperture_stamps(POSITIONS, radius, SHAPE)
    np.testing.assert_array_equal(stamps.flags(flag), aperture_flags(flag, POSITIONS, radius))


def test_a_planted_source_is_recovered_whole_and_its_neighbour_left_out():
    yy, xx = np.mgrid[0 : SHAPE[0], 0 : SHAPE[1]]
    sigma = 1.4

    def source(x, y, flux):
        return flux * np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * sigma**2)) / (2 * np.pi * sigma**2)

    frame = (source(30.3, 40.6, 500.0) + source(60.8, 20.1, 2000.0)).astype(np.float32)
    radius = 5 * sigma
    got = aperture_stamps(np.array([[30.3, 40.6], [60.8, 20.1]]), radius, SHAPE).sums(frame)
    enclosed = 1 - np.exp(-(radius**2) / (2 * sigma**2))
    np.testing.assert_allclose(got, [500.0 * enclosed, 2000.0 * enclosed], rtol=1e-4)
    flat = aperture_stamps(np.array([[44.5, 39.5]]), 5.0, SHAPE).sums(np.ones(SHAPE, np.float32))
    assert flat[0] == pytest.approx(np.pi * 25, rel=1e-6)


def test_no_positions_and_a_wrong_shape():
    empty = aperture_stamps(np.zeros((0, 2)), 5.0, SHAPE)
    assert empty.sums(np.ones(SHAPE, np.float32)).shape == (0,)
    assert empty.flags(np.ones(SHAPE, np.uint8)).shape == (0,)
    with pytest.raises(ValueError, match="shape"):
        aperture_stamps(POSITIONS, 5.0, SHAPE).sums(np.ones((10, 10), np.float32))
