from __future__ import annotations

import numpy as np
import pytest

from apps.lightcurves.science import reference as ref
from apps.lightcurves.science.errors import InsufficientData, InvalidInput
from apps.lightcurves.science.views import (
    PRESETS,
    bin_median,
    binned_view,
    fold,
    get_preset,
    normalisation,
    view_span,
)

RNG = np.random.default_rng(7)


def test_it_folds_the_epoch_to_zero_within_half_a_period():
    phase = fold(np.array([10.0, 12.4, 12.6, 15.0]), 5.0, 10.0)
    np.testing.assert_allclose(phase, [0.0, 2.4, -2.4, 0.0])
    assert phase.min() >= -2.5 and phase.max() < 2.5


def test_it_folds_exactly_as_numpys_mod_does():
    t = np.concatenate((RNG.uniform(-50, 1600, 20000), [138.731, 138.731 + 10.3071 / 2]))
    for period, epoch in ((10.3071, 138.731), (0.5, 1400.0), (3.2, -7.0)):
        expected = np.mod(t + (period / 2 - epoch), period) - period / 2
        np.testing.assert_array_equal(fold(t, period, epoch), expected)


def test_it_slices_every_point_a_views_bins_can_see():
    phase = np.sort(RNG.uniform(-5, 5, 4000))
    spec = PRESETS["gaia"].local_view
    span = view_span(phase, spec, 10.0, 0.4)
    _, counts = bin_median(phase, phase, spec.num_bins, 0.4 * 0.16, -1.6, 1.6)
    _, inside = bin_median(phase[span], phase[span], spec.num_bins, 0.4 * 0.16, -1.6, 1.6)
    np.testing.assert_array_equal(inside, counts)
    assert phase[span].min() >= -1.6 and span.stop - span.start < phase.size / 2


@pytest.mark.parametrize(
    "n, bins, width",
    [(1000, 201, 0.05), (30, 201, 0.02), (2, 11, 0.3), (5000, 2001, 0.004), (1, 5, 0.1)],
)
def test_it_bins_like_astronets_bin_and_aggregate(n, bins, width):
    x = np.sort(RNG.uniform(-1, 1, n))
    y = RNG.normal(size=n)
    fast, counts = bin_median(x, y, bins, width, -1.0, 1.0)
    slow, slow_counts = ref.bin_and_aggregate(x, y, bins, width, -1.0, 1.0)
    np.testing.assert_array_equal(counts, slow_counts)
    np.testing.assert_array_equal(fast, slow)
    assert (counts == 0).any() or n > 100  # the small cases exercise empty bins


def test_it_fills_empty_bins_and_normalises_to_median_zero_and_minimum_minus_one():
    phase = np.sort(RNG.uniform(-5, 5, 3000))
    flux = np.where(np.abs(phase) < 0.2, 0.99, 1.0) + RNG.normal(0, 1e-4, phase.size)
    view, counts = binned_view(phase, flux, PRESETS["astronet"].local_view, 10.0, 0.4, fill=-7.0)
    assert (view[counts == 0] == -7.0).all()
    center, scale = normalisation(view[counts > 0])
    norm = (view[counts > 0] - center) / scale
    assert np.median(norm) == pytest.approx(0.0) and norm.min() == pytest.approx(-1.0)


def test_it_centres_a_planted_box_transit_in_the_local_view():
    t = np.arange(0, 100, 0.02)
    flux = np.where(np.abs(fold(t, 3.7, 1.3)) < 0.1, 0.995, 1.0) + RNG.normal(0, 2e-4, t.size)
    phase = fold(t, 3.7, 1.3)
    order = np.argsort(phase)
    view, _ = binned_view(phase[order], flux[order], PRESETS["gaia"].local_view, 3.7, 0.2, fill=1.0)
    low = np.flatnonzero(view < 0.9975)  # bins below half depth: the transit
    assert abs(low.mean() - 100) <= 1 and view[100] == pytest.approx(0.995, abs=3e-4)
    assert low.size == pytest.approx(0.2 / (0.0392 * 0.2), abs=3)  # one duration wide


def test_it_offers_the_three_presets_with_their_published_sizes():
    sizes = {
        name: (p.global_view.num_bins, p.local_view.num_bins, p.secondary_view.num_bins)
        for name, p in PRESETS.items()
    }
    assert sizes == {
        "astronet": (2001, 201, 201),
        "gaia": (2001, 201, 201),
        "yu2019": (201, 61, 61),
    }
    assert not PRESETS["astronet"].quality_mask and PRESETS["gaia"].mask_transits_in_fit
    with pytest.raises(InvalidInput, match="astronet"):
        get_preset("nope")


def test_it_needs_two_points_and_a_bin_narrower_than_the_view():
    spec = PRESETS["astronet"].local_view
    with pytest.raises(InsufficientData):
        binned_view(np.array([0.0]), np.array([1.0]), spec, 1.0, 0.1, 1.0)
    with pytest.raises(InvalidInput):
        binned_view(
            np.array([0.0, 0.1]),
            np.array([1.0, 1.0]),
            PRESETS["astronet"].global_view.__class__(5, 2.0),
            1.0,
            0.1,
            1.0,
        )
