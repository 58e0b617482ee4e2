"""tce_views end to end: presets, the AstroNet reference, diagnostics and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from apps.lightcurves.science import reference as ref
from apps.lightcurves.science.diagnostics import transit_numbers
from apps.lightcurves.science.errors import (
    BadEphemeris,
    InsufficientData,
    InvalidInput,
    LightCurveError,
)
from apps.lightcurves.science.io import read_fits
from apps.lightcurves.science.pipeline import (
    Ephemeris,
    flatten_lightcurves,
    prepare,
    tce_views,
)
from apps.lightcurves.science.spline import BKSPACES
from apps.lightcurves.science.views import (
    PRESETS,
    VIEW_NAMES,
    binned_view,
    fold,
    normalisation,
    scale_view,
)

from .conftest import KEPLER6_Q0, TRES2_Q0

EB_PRIMARY = (10.3071, 138.731, 4.5)  # DR24 TCE 1 of KIC 2306740


def test_it_reproduces_astronets_views_number_for_number(eb_quarters):
    curves = eb_quarters[:4]
    ours = tce_views(curves, *EB_PRIMARY, preset="astronet")
    lc = prepare(curves, quality=False)
    theirs = ref.astronet_views(lc.time, lc.flux, lc.part, *EB_PRIMARY, BKSPACES)
    assert (
        ours.diagnostics["bkspace"] == theirs["bkspace"]
        and ours.diagnostics["n_points"] == theirs["time"].size
    )
    np.testing.assert_allclose(ours.views["global_view"], theirs["global_view"], atol=1e-9)
    np.testing.assert_allclose(ours.views["local_view"], theirs["local_view"], atol=1e-9)


def _sorted(time, values, period, epoch):
    phase = fold(time, period, epoch)
    order = np.argsort(phase, kind="stable")
    return phase[order], values[order], order


@pytest.mark.parametrize("preset", ["gaia", "yu2019"])
def test_it_builds_the_extra_views_from_one_sort_as_folding_each_anew_would(eb_quarters, preset):
    curves, (period, epoch, hours) = eb_quarters[:5], EB_PRIMARY
    ours = tce_views(curves, period, epoch, hours, preset=preset)
    flat = flatten_lightcurves(curves, preset=preset, tces=[Ephemeris(period, epoch, hours)])
    spec, dur = PRESETS[preset], hours / 24
    phase, flux, order = _sorted(flat.time, flat.flux, period, epoch)
    fill = np.median(flux)
    center, scale = normalisation(binned_view(phase, flux, spec.local_view, period, dur, fill)[0])
    odd = (transit_numbers(flat.time, period, epoch) % 2 == 0)[order]
    for name, sel in (("odd_view", odd), ("even_view", ~odd)):
        slow = binned_view(phase[sel], flux[sel], spec.local_view, period, dur, fill)[0]
        np.testing.assert_array_equal(ours.views[name], scale_view(slow, center, scale))
    away = np.abs(phase) > 1.5 * dur
    secondary = ours.diagnostics["secondary_phase"]
    sph, sflux, _ = _sorted(flat.time[order][away], flux[away], period, epoch + secondary)
    slow = binned_view(sph, sflux, spec.secondary_view, period, dur, fill)[0]
    np.testing.assert_array_equal(ours.views["secondary_view"], scale_view(slow, center, scale))
    ok = np.isfinite(flat.centroid_col) & np.isfinite(flat.centroid_row)
    shift = np.hypot(flat.centroid_col[ok], flat.centroid_row[ok])
    cph, cval, _ = _sorted(flat.time[ok], shift, period, epoch)
    for name, view_spec in (
        ("centroid_global_view", spec.global_view),
        ("centroid_local_view", spec.local_view),
    ):
        slow = binned_view(cph, cval, view_spec, period, dur, np.median(shift))[0]
        np.testing.assert_array_equal(ours.views[name], slow - np.median(slow))


@pytest.mark.parametrize(
    "preset, n_global, n_local", [("gaia", 2001, 201), ("astronet", 2001, 201), ("yu2019", 201, 61)]
)
def test_it_builds_every_view_with_the_presets_sizes(read, preset, n_global, n_local):
    out = tce_views([read(KEPLER6_Q0)], 3.2347, 134.425, 3.584, preset=preset)
    assert tuple(out.views) == VIEW_NAMES
    sizes = {name: out.views[name].size for name in VIEW_NAMES}
    assert sizes == {
        "global_view": n_global,
        "local_view": n_local,
        "odd_view": n_local,
        "even_view": n_local,
        "secondary_view": n_local,
        "centroid_local_view": n_local,
        "centroid_global_view": n_global,
    }
    assert all(np.isfinite(out.views[name]).all() for name in VIEW_NAMES)
    assert (
        out.views["local_view"].min() == pytest.approx(-1.0) and out.diagnostics["n_transits"] == 3
    )


def test_it_flags_the_eclipsing_binary_by_its_secondary_eclipse(eb_quarters):
    out = tce_views(eb_quarters, *EB_PRIMARY, preset="gaia")
    assert (
        out.diagnostics["secondary_flag"]
        and out.diagnostics["eb_flag"]
        and not out.diagnostics["odd_even_flag"]
    )
    # DR24 TCE 2 (the secondary, T0 = 133.432) lies 5.008 d after the primary
    assert out.diagnostics["secondary_phase"] == pytest.approx(133.432 + 10.3069 - 138.731, abs=0.1)
    assert (
        out.diagnostics["n_transits"] > 100
        and out.diagnostics["transit_depth"].size == out.diagnostics["n_transits"]
    )


def test_it_flags_the_eclipsing_binary_at_half_its_period_by_odd_and_even_depths(eb_quarters):
    out = tce_views(eb_quarters[:6], 10.3071 / 2, 138.731, 4.5, preset="gaia")
    assert out.diagnostics["odd_even_flag"] and out.diagnostics["odd_even_sigma"] > 50


@pytest.mark.parametrize(
    "rel, ephemeris",
    [(KEPLER6_Q0, (3.2347, 134.425, 3.584)), (TRES2_Q0, (2.47061, 132.646, 1.783))],
)
def test_it_does_not_flag_the_hot_jupiters(read, rel, ephemeris):
    out = tce_views([read(rel)], *ephemeris, preset="gaia")
    assert not out.diagnostics["eb_flag"] and out.diagnostics["snr"] > 100


def test_it_removes_other_tces_before_folding_in_the_gaia_preset(eb_quarters):
    secondary = Ephemeris(10.3069, 133.432, 7.5)
    kept = tce_views(eb_quarters[:4], *EB_PRIMARY, preset="gaia")
    removed = tce_views(eb_quarters[:4], *EB_PRIMARY, preset="gaia", other_tces=[secondary])
    assert kept.diagnostics["secondary_flag"] and not removed.diagnostics["secondary_flag"]
    assert removed.diagnostics["n_points"] < kept.diagnostics["n_points"]


@pytest.mark.parametrize(
    "period, epoch, hours, match",
    [
        (0.0, 134.4, 3.0, "positive"),
        (-2.0, 134.4, 3.0, "positive"),
        (50.0, 134.4, 3.0, "^no transit of this TCE falls in the data$"),
        (0.1, 134.4, 3.0, "shorter"),
        (3.2, np.nan, 3.0, "finite"),
    ],
)
def test_it_rejects_impossible_ephemerides(read, period, epoch, hours, match):
    with pytest.raises(BadEphemeris, match=match):
        tce_views([read(KEPLER6_Q0)], period, epoch, hours)


KEPLER90_GLOB = "kepler/kplr011442793-*_llc.fits"


@pytest.mark.parametrize("preset", ["gaia", "astronet", "yu2019"])
def test_it_builds_views_of_a_tce_longer_than_the_data_from_its_one_transit(demo_data, preset):
    # Kepler-90 h (DR24 11442793-1): 331.6 d, one transit (BKJD 472.08) in 278 d of data
    curves = [read_fits(p) for p in sorted(demo_data.glob(KEPLER90_GLOB))]
    out = tce_views(curves, 331.603, 140.480, 14.49, preset=preset)
    assert out.diagnostics["n_transits"] == 1 and out.diagnostics["transit_time"] == pytest.approx(
        [472.083]
    )
    assert out.views["local_view"].min() == pytest.approx(-1.0)
    assert abs(int(np.argmin(out.views["local_view"])) - out.views["local_view"].size // 2) <= 2
    assert out.diagnostics["snr"] > 50 and 0.004 < out.diagnostics["depth"] < 0.012
    assert np.isnan(out.diagnostics["odd_even_sigma"])  # no even transit to compare with
    # only a TCE none of whose transits has data is refused
    with pytest.raises(BadEphemeris, match="^no transit of this TCE falls in the data$"):
        tce_views(curves, 331.603, 400.0, 14.49, preset=preset)  # in the Q4-Q5 gap


def test_it_rejects_empty_and_all_nan_input(read):
    lc = read(KEPLER6_Q0)
    with pytest.raises(InvalidInput):
        tce_views([], 3.2, 134.4, 3.0)
    with pytest.raises(InsufficientData):
        tce_views([lc.replace(flux=np.full(len(lc), np.nan))], 3.2, 134.4, 3.0)
    with pytest.raises(LightCurveError, match="preset"):
        tce_views([lc], 3.2, 134.4, 3.0, preset="kepler")
