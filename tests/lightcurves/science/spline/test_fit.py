from __future__ import annotations

import numpy as np
import pytest

from apps.lightcurves.science.cleaning import segment_bounds
from apps.lightcurves.science.pipeline import prepare
from apps.lightcurves.science.spline import BKSPACES, fit_spline
from apps.lightcurves.science.spline import reference as ref

RNG = np.random.default_rng(42)


def test_it_tries_astronets_twenty_spacings_from_half_a_day_to_twenty_days():
    assert (
        BKSPACES.size == 20
        and BKSPACES[0] == pytest.approx(0.5)
        and BKSPACES[-1] == pytest.approx(20.0)
    )


def test_it_chooses_the_same_spacing_and_spline_as_the_slow_astronet_restatement(eb_quarters):
    lc = prepare(eb_quarters[1:3], quality=False)
    bounds = segment_bounds(lc.time, lc.part)
    fast = fit_spline(lc.time, lc.flux, bounds=bounds)
    segs = [(lc.time[a:b], lc.flux[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    spline, bkspace, bics = ref.choose_kepler_spline(
        [s[0] for s in segs], [s[1] for s in segs], BKSPACES
    )
    assert fast.bkspace == bkspace
    np.testing.assert_allclose(fast.bic, bics, rtol=1e-9)
    np.testing.assert_allclose(fast.trend, np.concatenate(spline), rtol=1e-9)


def test_it_skips_segments_with_fewer_than_four_points():
    t = np.concatenate((np.linspace(0, 5, 200), [7.0, 7.1, 7.2]))
    f = 1 + 0.01 * np.sin(t) + RNG.normal(0, 1e-4, t.size)
    fit = fit_spline(t, f)
    assert np.isnan(fit.trend[-3:]).all() and np.isfinite(fit.trend[:200]).all()


@pytest.mark.parametrize("position", ["end", "middle"])
def test_it_skips_a_segment_of_a_single_cadence(position):
    """A lone cadence after a gap has zero time span; it must be left unfitted, not divide by zero."""
    main = np.linspace(0, 5, 200)
    later = np.linspace(8.0, 12.0, 150)
    t = (
        np.concatenate((main, [6.5], later))
        if position == "middle"
        else np.concatenate((main, [6.5]))
    )
    f = 1 + 0.01 * np.sin(t) + RNG.normal(0, 1e-4, t.size)
    fit = fit_spline(t, f)
    assert np.isnan(fit.trend[200]) and np.isfinite(fit.trend[:200]).all()


def test_it_keeps_a_planted_deep_transit_out_of_the_masked_trend():
    t = np.arange(0, 30, 0.0204)
    trend = 1 + 0.003 * np.sin(2 * np.pi * t / 7.0)
    inside = np.abs((t - 3.0 + 2.5) % 5.0 - 2.5) < 0.15
    f = trend * np.where(inside, 0.7, 1.0) * (1 + RNG.normal(0, 2e-4, t.size))
    masked = fit_spline(t, f, transit_mask=np.abs((t - 3.0 + 2.5) % 5.0 - 2.5) < 0.3)
    flat = f / masked.trend
    assert np.median(flat[inside]) == pytest.approx(0.7, abs=0.002)
    assert np.max(np.abs(masked.trend / trend - 1)[~inside]) < 1e-3
