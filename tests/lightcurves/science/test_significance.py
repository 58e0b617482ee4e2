"""The local box fit: each transit against its own baseline (a line, or a quadratic on a spotted star)."""

from __future__ import annotations

import numpy as np
import pytest

from apps.lightcurves.science.significance import local_box_fit
from apps.lightcurves.science.views import fold


def spotted_star(rng, t):
    """A young star at 2-min cadence: 4 % spots rotating in 4.9 d (and a harmonic), 1e-3 scatter."""
    spots = 0.02 * np.sin(2 * np.pi * t / 4.9) + 0.008 * np.sin(4 * np.pi * t / 4.9 + 1.0)
    return 1 + spots + rng.normal(0, 1e-3, t.size)


def test_it_measures_a_planted_transit_on_a_spotted_star():
    rng = np.random.default_rng(0)
    t = np.arange(0, 27, 2 / 1440)
    box = np.abs(fold(t, 3.1, 1.3)) < 0.05
    depth, snr, fitted = local_box_fit(t, spotted_star(rng, t) - 1e-3 * box, 3.1, 1.3, 0.1, 0.2)
    assert fitted == 9
    assert depth == pytest.approx(1e-3, rel=0.15)
    white = 1e-3 * np.sqrt(box.sum()) / 1e-3  # without the baselines' own uncertainty
    assert 0.5 * white < snr < white


def test_its_snr_of_pure_noise_is_a_unit_normal_whatever_the_ephemeris():
    rng = np.random.default_rng(1)
    t = np.arange(0, 27, 2 / 1440)
    f = spotted_star(rng, t)
    draws = rng.uniform((1.0, 0.0), (10.0, 5.0), size=(200, 2))
    snrs = np.array([local_box_fit(t, f, p, e, 0.1, 0.2)[1] for p, e in draws])
    assert abs(snrs.mean()) < 0.3 and 0.8 < snrs.std() < 1.3


def test_it_counts_red_noise():
    # noise correlated over ~2 h: white-noise error bars would give these SNRs a spread of
    # ~7 (sqrt of the 60 cadences each draw spreads over); counting it brings them near 1
    rng = np.random.default_rng(2)
    t = np.arange(0, 27, 2 / 1440)
    red = np.convolve(rng.normal(0, 1e-3, t.size), np.ones(60) / np.sqrt(60), mode="same")
    draws = rng.uniform((1.0, 0.0), (10.0, 5.0), size=(100, 2))
    snrs = np.array([local_box_fit(t, 1 + red, p, e, 0.1, 0.3)[1] for p, e in draws])
    assert snrs.std() < 2.0


def test_it_fits_nothing_without_baseline_beside_the_box():
    t = np.arange(0, 10, 0.01)
    f = np.ones(t.size)
    keep = np.abs(fold(t, 2.0, 0.5)) < 0.05  # only the boxes themselves
    depth, snr, fitted = local_box_fit(t[keep], f[keep], 2.0, 0.5, 0.1, 0.3)
    assert fitted == 0 and np.isnan(depth) and np.isnan(snr)


def test_a_transit_beside_a_gap_counts_with_its_one_flank():
    rng = np.random.default_rng(0)
    t = np.arange(0, 10, 0.005)
    phase = fold(t, 2.0, 0.5)
    f = 1 + 2e-4 * (t - 5) + rng.normal(0, 1e-3, t.size) - 2e-3 * (np.abs(phase) < 0.05)
    gap = (t > 4.55) & (t < 5.0)  # the flank after the third transit is lost
    depth, snr, fitted = local_box_fit(t[~gap], f[~gap], 2.0, 0.5, 0.1, 0.3)
    assert fitted == 5
    assert depth == pytest.approx(2e-3, rel=0.1)
    assert snr > 0.9 * local_box_fit(t, f, 2.0, 0.5, 0.1, 0.3)[1]


def test_a_quiet_star_gets_a_line_not_a_quadratic():
    # white noise: a quadratic baseline would cost ~25 % of the SNR at this reach (1.5 durations)
    rng = np.random.default_rng(4)
    t = np.arange(0, 27, 2 / 1440)
    box = np.abs(fold(t, 3.1, 1.3)) < 0.05
    f = 1 + rng.normal(0, 1e-3, t.size) - 1e-3 * box
    depth, snr, _ = local_box_fit(t, f, 3.1, 1.3, 0.1, 0.15)
    ideal = 1e-3 * np.sqrt(box.sum()) / 1e-3
    assert 0.8 * ideal < snr < 1.15 * ideal
