"""The search grid: durations that scale with period for the star, Ofir's period spacing."""

from __future__ import annotations

import numpy as np
import pytest

from apps.lightcurves.science.errors import InvalidInput
from apps.lightcurves.science.grid import (
    DurationLaw,
    chunk_durations,
    ofir_count,
    ofir_periods,
    period_chunks,
    stellar_density,
    transit_duration,
)


def test_it_gives_the_earth_a_thirteen_hour_transit_and_scales_as_the_cube_root():
    assert transit_duration(365.25, 1.0) * 24 == pytest.approx(13.0, rel=0.02)
    assert transit_duration(8 * 3.0, 1.0) / transit_duration(3.0, 1.0) == pytest.approx(2.0)
    assert transit_duration(3.0, 8.0) / transit_duration(3.0, 1.0) == pytest.approx(0.5)


def test_it_derives_the_density_from_the_stars_parameters_and_distrusts_absurd_ones():
    assert stellar_density(logg=4.438, radius=1.0) == pytest.approx(1.0)
    assert stellar_density(mass=0.5, radius=0.5) == pytest.approx(4.0)
    assert stellar_density(logg=4.602, radius=0.698) == pytest.approx(2.09, rel=0.01)  # AU Mic
    assert stellar_density(logg=None, radius=1.0) is None
    assert stellar_density(logg=9.0, radius=0.01) is None


def test_it_spaces_periods_uniformly_in_frequency_to_the_third_as_ofir():
    periods = ofir_periods(0.5, 40.0, 80.0, 1.0)
    cube = np.cbrt(1 / periods)
    assert np.allclose(np.diff(cube), np.diff(cube)[0], rtol=1e-6)
    assert periods[0] == pytest.approx(0.5) and periods[-1] == pytest.approx(40.0)
    assert ofir_count(0.5, 40.0, 80.0, 1.0) == periods.size
    # the phase drift over the span between neighbours stays a third of a transit
    p = periods[:-1]
    drift = np.abs(np.diff(1 / periods)) * 80.0 * p
    assert np.all(drift <= transit_duration(p, 1.0) / 3 * 1.01)
    # a span 10x longer needs 10x as many periods
    assert ofir_count(0.5, 40.0, 800.0, 1.0) == pytest.approx(10 * periods.size, rel=0.01)
    with pytest.raises(InvalidInput):
        ofir_periods(5.0, 1.0, 80.0, 1.0)


def test_it_searches_durations_around_the_expected_one_and_flags_the_implausible():
    law = DurationLaw.for_star(1.0)
    lo, hi = law.bounds(10.0)
    assert lo == pytest.approx(0.3 * transit_duration(10.0, 1.0))
    assert hi == pytest.approx(1.5 * transit_duration(10.0, 1.0))
    assert law.plausible(10.0, float(transit_duration(10.0, 1.0))) == 1.0
    assert law.plausible(10.0, 1.0) > 1  # a day-long transit at 10 d around the Sun: no
    broad = DurationLaw.for_star(None)
    assert broad.bounds(10.0)[1] > 2 * hi  # unknown star: a subgiant's durations too
    chunk = period_chunks(ofir_periods(0.5, 40.0, 80.0, 1.0))
    assert all(np.ptp(np.log(ofir_periods(0.5, 40.0, 80.0, 1.0)[s])) <= np.log(1.25) + 1e-9 for s in chunk)
    durs = chunk_durations(law, 8.0, 10.0)
    assert durs[0] == pytest.approx(law.bounds(8.0)[0]) and durs[-1] == pytest.approx(law.bounds(10.0)[1])
