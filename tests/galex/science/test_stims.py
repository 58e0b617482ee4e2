"""Stim finding and the stim-separation fit."""

from __future__ import annotations

import numpy as np
import pytest

from apps.galex.science.constants import ASPUM, stim_positions
from apps.galex.science.errors import StimError
from apps.galex.science.stims import (
    StimSample,
    find_stims,
    find_stims_reference,
    fit_stim_coefficients,
    post_csp_stimstats,
)


def planted_stims(
    n, slope, t0=7e8, duration=400.0, seed=0, band="NUV", eclipse=23456, scale=1.0, shift=0.0
):
    rng = np.random.default_rng(seed)
    pos = stim_positions(band, eclipse)
    centre = pos.mean(axis=0)
    t = np.sort(rng.uniform(t0, t0 + duration, n))
    which = rng.integers(0, 4, n)
    sep0 = (
        (pos[1, 0] - pos[0, 0])
        + (pos[3, 0] - pos[2, 0])
        + (pos[0, 1] - pos[2, 1])
        + (pos[1, 1] - pos[3, 1])
    ) / 4
    grow = (1 + slope * (t - t0) / sep0) * scale
    xy = centre + (pos[which] - centre) * grow[:, None] + shift + rng.normal(0, 2.0, (n, 2))
    sample = StimSample(t, xy[:, 0] / ASPUM, xy[:, 1] / ASPUM, (which + 1).astype(np.int8),
                        rng.integers(0, 32, n).astype(np.int16), rng.integers(2, 5, n).astype(np.int16),
                        rng.integers(-500, 500, n).astype(np.int16))  # fmt: skip
    return sample, sep0


def test_it_finds_stims_like_the_reference():
    rng = np.random.default_rng(1)
    sample, _ = planted_stims(5000, 0.0)
    x = np.concatenate([sample.x, rng.uniform(-40000, 40000, 20000)])
    y = np.concatenate([sample.y, rng.uniform(-40000, 40000, 20000)])
    for margin in (20.0, 90.001):
        fast = find_stims(x, y, "NUV", 23456, margin)
        np.testing.assert_array_equal(fast, find_stims_reference(x, y, "NUV", 23456, margin))
    assert np.mean(find_stims(sample.x, sample.y, "NUV", 23456, 20.0) == sample.stim) > 0.99


def test_it_recovers_a_planted_stim_separation_drift():
    slope = 2.0 / 400.0  # arcsec per second
    sample, sep0 = planted_stims(30_000, slope)
    c, m = fit_stim_coefficients(sample)
    assert m == pytest.approx(slope, rel=0.1)
    assert c + m * 7e8 == pytest.approx(sep0, abs=0.1)


def test_it_says_when_there_are_too_few_stims():
    sample, _ = planted_stims(1500, 0.0)
    with pytest.raises(StimError, match="more than 2000 stim events"):
        fit_stim_coefficients(sample)


def test_it_pins_post_csp_stims_to_the_pre_csp_frame():
    sample, _ = planted_stims(40_000, 0.0, eclipse=40000, scale=1.002, shift=3.0)
    sol = post_csp_stimstats(sample, "NUV")
    # A stim pattern scaled by 1.002 is scaled back by ~1/1.002 onto the pre-CSP positions.
    pre = stim_positions("NUV", 0)
    post = stim_positions("NUV", 40000)
    expected_y = (
        (pre[0, 1] + pre[1, 1] - pre[2, 1] - pre[3, 1])
        / (post[0, 1] + post[1, 1] - post[2, 1] - post[3, 1])
        / 1.002
    )
    assert sol.my == pytest.approx(expected_y, rel=1e-3)
    assert sol.yactbl.shape == (40, 8)
