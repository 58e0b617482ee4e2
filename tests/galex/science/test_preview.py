"""Preview block sums: the numba kernel against its numpy twin, and a planted source."""

from __future__ import annotations

import numpy as np
import pytest

from apps.galex.science.preview import block_sum, block_sum_reference


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("shape", "factor"), [((50, 70), 4), ((2641, 2641), 17), ((9, 9), 1), ((12, 10), 3)])
def test_block_sum_matches_numpy(dtype, shape, factor):
    rng = np.random.default_rng(2)
    values = rng.poisson(1.5, shape).astype(dtype) * rng.uniform(0.8, 1.2, shape).astype(dtype)
    values[0, 0], values[-1, 3], values[shape[0] // 2, -1] = np.nan, np.inf, -np.inf  # NaN and infinities as 0
    got = block_sum(values, factor)
    expected = block_sum_reference(values, factor)
    assert got.shape == expected.shape == (shape[0] // factor, shape[1] // factor)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-9)


def test_a_planted_source_lands_whole_in_its_block():
    frame = np.zeros((64, 64), np.float32)
    frame[20:24, 40:44] = 2.5  # 40 counts inside block (2, 5) of 8x8 blocks
    summed = block_sum(frame, 8)
    assert summed[2, 5] == pytest.approx(40.0)
    assert summed.sum() == pytest.approx(40.0)
