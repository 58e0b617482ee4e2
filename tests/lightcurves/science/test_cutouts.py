"""Phase axes of the stored views and per-transit cut-outs for the vetting page."""

from __future__ import annotations

import numpy as np

from apps.lightcurves.science.diagnostics import transit_cutouts
from apps.lightcurves.science.views import PRESETS, bin_centres, bin_median, fold


def test_it_puts_each_bin_centre_where_the_binning_puts_the_bin():
    spec = PRESETS["gaia"].local_view
    period, duration = 10.0, 0.3
    centres = bin_centres(spec, period, duration)
    assert centres.size == spec.num_bins
    np.testing.assert_allclose(centres[spec.num_bins // 2], 0.0, atol=1e-12)  # mid-transit in the middle bin
    # A point placed at a bin centre lands in that bin (and its neighbours, which overlap it).
    width = duration * spec.bin_width
    for k in (0, 57, 200):
        _, counts = bin_median(np.array([centres[k]]), np.array([1.0]), spec.num_bins, width, -4 * duration, 4 * duration)
        assert counts[k] == 1


def test_it_spans_the_whole_period_for_a_global_view():
    centres = bin_centres(PRESETS["yu2019"].global_view, 4.0, 0.1)
    assert centres[0] > -2.0 and centres[-1] < 2.0
    assert np.all(np.diff(centres) > 0)


def test_it_cuts_out_three_durations_either_side_of_each_transit():
    time = np.arange(0.0, 30.0, 0.02)
    flux = np.ones_like(time)
    cuts = transit_cutouts(time, flux, 10.0, 5.0, 0.25, np.array([0, 1, 2]))
    assert [c["number"] for c in cuts] == [0, 1, 2]
    np.testing.assert_allclose([c["time"] for c in cuts], [5.0, 15.0, 25.0])
    for cut in cuts:
        assert np.abs(cut["dt"]).max() <= 0.75 and np.abs(cut["dt"]).max() > 0.7
        assert cut["dt"].size == cut["flux"].size
        assert not cut["gappy"] and cut["coverage"] == 1.0


def test_it_marks_a_transit_that_falls_partly_in_a_gap():
    time = np.arange(0.0, 30.0, 0.02)
    time = time[~((time > 14.9) & (time < 15.5))]  # the second transit loses its first half and more
    cuts = transit_cutouts(time, np.ones_like(time), 10.0, 5.0, 0.25, np.array([0, 1, 2]))
    assert [c["gappy"] for c in cuts] == [False, True, False]
    assert cuts[1]["coverage"] < 0.8


def test_it_cuts_out_the_transits_the_diagnostics_found():
    rng = np.random.default_rng(1)
    time = np.sort(rng.uniform(0, 50, 5000))
    flux = 1 - 0.01 * (np.abs(fold(time, 7.0, 2.0)) < 0.05)
    cuts = transit_cutouts(time, flux, 7.0, 2.0, 0.1, np.array([3]))
    inside = np.abs(cuts[0]["dt"]) < 0.05
    assert np.allclose(cuts[0]["flux"][inside], 0.99) and np.allclose(cuts[0]["flux"][~inside], 1.0)
