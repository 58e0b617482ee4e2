"""Diagnostics kernels against straightforward re-computations on the eclipsing binary."""

from __future__ import annotations

import numpy as np
import pytest

from apps.lightcurves.science.diagnostics import (
    box_depth,
    find_secondary_phase,
    per_transit,
    secondary_core,
    transit_numbers,
)
from apps.lightcurves.science.pipeline import Ephemeris, flatten_lightcurves
from apps.lightcurves.science.views import fold

P, T0, D = 10.3071, 138.731, 4.5 / 24


@pytest.fixture(scope="module")
def flat(eb_quarters):
    return flatten_lightcurves(eb_quarters[:5], preset="gaia", tces=[Ephemeris(P, T0, 4.5)])


def _slow_secondary_phase(phase, flux, period, duration):
    """find_secondary_phase as first written: the folded curve tiled three times."""
    order = np.argsort(phase)
    ph = np.concatenate((phase[order] - period, phase[order], phase[order] + period))
    csum = np.concatenate(([0.0], np.cumsum(np.tile(flux[order], 3))))
    centres = np.arange(-period / 2, period / 2, duration / 4)
    centres = centres[np.abs(centres) >= 2 * duration]
    lo = np.searchsorted(ph, centres - duration / 2)
    hi = np.searchsorted(ph, centres + duration / 2)
    means = np.where(hi > lo, (csum[hi] - csum[lo]) / np.maximum(hi - lo, 1), np.inf)
    return float(centres[int(np.argmin(means))])


def test_it_finds_the_same_secondary_with_a_short_wrap_margin_and_a_presorted_curve(flat):
    phase = fold(flat.time, P, T0)
    away = np.abs(phase) > D
    expected = _slow_secondary_phase(phase[away], flat.flux[away], P, D)
    order = np.argsort(phase[away])
    assert find_secondary_phase(phase[away], flat.flux[away], P, D) == expected
    assert (
        find_secondary_phase(phase[away][order], flat.flux[away][order], P, D, presorted=True)
        == expected
    )
    # a dip straddling +-P/2 must still be found through the wrap margin
    shifted = fold(flat.time, P, T0 + 5.0)
    away = np.abs(shifted) > D
    assert find_secondary_phase(shifted[away], flat.flux[away], P, D) == pytest.approx(
        _slow_secondary_phase(shifted[away], flat.flux[away], P, D)
    )


@pytest.mark.parametrize("secondary", [5.0085, -5.1, 0.7])
def test_it_picks_the_secondarys_core_cadences_as_a_full_fold_would(flat, secondary):
    phase = fold(flat.time, P, T0)
    full = (np.abs(fold(flat.time, P, T0 + secondary)) < D / 4) & (np.abs(phase) > D)
    core = secondary_core(flat.time, phase, P, T0, D, secondary)
    np.testing.assert_array_equal(core, full)


def test_it_measures_every_transit_as_a_loop_over_transits_does(flat):
    phase = fold(flat.time, P, T0)
    gallery = per_transit(flat.time, flat.flux, phase, P, T0, D, 1.0, 1e-4)
    core = np.abs(phase) < D / 4
    numbers = transit_numbers(flat.time, P, T0)
    seen = np.unique(numbers[core])
    np.testing.assert_array_equal(gallery["transit_number"], seen)
    slow = np.array([box_depth(flat.flux, core & (numbers == k), 1.0, 1e-4) for k in seen])
    np.testing.assert_allclose(gallery["transit_depth"], slow[:, 0], rtol=1e-12)
    np.testing.assert_allclose(gallery["transit_depth_err"], slow[:, 1], rtol=1e-12)
    np.testing.assert_array_equal(gallery["transit_npoints"], slow[:, 2])
