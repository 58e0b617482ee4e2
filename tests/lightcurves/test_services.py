"""Processing a real target end to end: views as versioned artifacts, and the transit search."""

from __future__ import annotations

import numpy as np
import pytest

from apps.catalog.models import TCE
from apps.core.errors import InvalidInput
from apps.jobs.models import Artifact
from apps.lightcurves import services
from apps.lightcurves.selectors import flattened_latest, tce_views_latest
from tests.factories import TargetFactory, TCEFactory, lightcurve_from_fits

pytestmark = pytest.mark.django_db

EB_FILES = ["kplr002306740-2009259160929_llc.fits", "kplr002306740-2009350155506_llc.fits"]


@pytest.fixture
def eclipsing_binary(demo_data):
    target = TargetFactory(identifier="2306740")
    for quarter, name in enumerate(EB_FILES, start=2):
        lightcurve_from_fits(target, demo_data / "kepler" / name, quarter=quarter)
    tce = TCEFactory(
        target=target, tce_number=3, period_days=10.307, epoch=138.748, duration_hours=18.64
    )
    return target, tce


def test_it_builds_views_for_every_tce_and_versions_reprocessing(eclipsing_binary):
    target, tce = eclipsing_binary
    report = services.target_process(target=target, presets=["gaia"])
    assert report["failed"] == {}
    views, artifact = tce_views_latest(tce_id=tce.pk, preset="gaia")
    assert views["global_view"].shape == (2001,) and views["local_view"].shape == (201,)
    assert np.argmin(views["local_view"]) == pytest.approx(100, abs=3)
    assert views["local_view"].min() == pytest.approx(-1.0)
    assert artifact.version == 1 and artifact.provenance["preset"] == "gaia"
    assert len(artifact.provenance["inputs"]) == 2
    assert flattened_latest(target_id=target.pk) is not None
    services.target_process(target=target, presets=["gaia"])
    assert list(
        Artifact.objects.filter(key=f"tce/{tce.pk}/views/gaia").values_list("version", flat=True)
    ) == [2, 1]


def test_it_reports_a_tce_with_no_transit_in_the_data_and_goes_on(eclipsing_binary):
    target, tce = eclipsing_binary
    # longer than the data is fine while a transit falls in it (BKJD 200 is in Q2) ...
    long = TCEFactory(target=target, tce_number=8, period_days=400.0, epoch=200.0, duration_hours=10.0)
    # ... but no transit of this one does (140 and 540 are outside Q2-Q3)
    TCEFactory(target=target, tce_number=9, period_days=400.0, epoch=140.0, duration_hours=10.0)
    report = services.target_process(target=target, presets=["yu2019"])
    assert list(report["failed"].values()) == ["no transit of this TCE falls in the data"]
    assert tce_views_latest(tce_id=long.pk, preset="yu2019")[0]["global_view"].shape == (201,)
    views, _ = tce_views_latest(tce_id=tce.pk, preset="yu2019")
    assert views["global_view"].shape == (201,) and views["local_view"].shape == (61,)


def test_it_refuses_a_target_without_light_curves_and_unknown_presets():
    with pytest.raises(InvalidInput, match="no light curves"):
        services.target_process(target=TargetFactory())
    with pytest.raises(InvalidInput, match="unknown preset"):
        services.target_process(target=TargetFactory(), presets=["magic"])


def test_it_records_found_signals_as_search_tces(eclipsing_binary):
    target, _ = eclipsing_binary
    found = services.target_search(
        target=target, period_min=2.0, period_max=40.0, n_periods=4000, max_signals=1
    )
    assert len(found) == 1
    assert found[0].period_days == pytest.approx(10.307, rel=2e-3)
    assert TCE.objects.filter(target=target, source="search").count() == 1


def test_it_keeps_the_transits_of_a_duplicate_catalogue_entry(eclipsing_binary):
    target, tce = eclipsing_binary
    # DR24 lists the same eclipses twice (TCE 1 and TCE 3): removing "the other TCE" must not delete them.
    TCEFactory(target=target, tce_number=1, period_days=10.3071, epoch=138.731, duration_hours=4.5)
    assert services.same_signal(tce, TCE.objects.get(target=target, tce_number=1))
    services.target_process(target=target, presets=["gaia"])
    views, artifact = tce_views_latest(tce_id=tce.pk, preset="gaia")
    assert artifact.meta["diagnostics"]["n_transits"] >= 6
    assert views["local_view"][95:106].min() == pytest.approx(-1.0)


def test_it_searches_the_same_stars_k2_and_tess_curves_on_one_clock(demo_data):
    # HD 106315 c (21.06 d) transits once in K2 C102 and once in each of TESS sectors 46 and 91:
    # only the joint 3,300-d baseline pins its period; epochs land on each target's own clock
    tess = TargetFactory(mission="tess", identifier="56815340", ra=183.47224, dec=-0.39392, logg=4.373, radius=1.243)
    k2 = TargetFactory(mission="k2", identifier="201437844", ra=183.47232, dec=-0.39390, logg=4.373, radius=1.243)
    for sector, name in ((46, "tess2021336043614-s0046-0000000056815340-0217-s_lc.fits"),
                         (91, "tess2025099153000-s0091-0000000056815340-0288-s_lc.fits")):
        lightcurve_from_fits(tess, demo_data / "tess" / name, quarter=sector)
    lightcurve_from_fits(k2, demo_data / "k2" / "ktwo201437844-c102_llc.fits", quarter=102)
    grid = {"period_min": 20.9, "period_max": 21.2, "n_periods": 3000, "max_signals": 1}
    params = services.search_params_validate({"target_id": tess.pk, "same_star": True, **grid})
    assert params["same_star"] is True  # the span checked is the joint one
    (on_tess,) = services.target_search(target=tess, same_star=True, **grid)
    assert on_tess.period_days == pytest.approx(21.0565, abs=2e-3)
    assert on_tess.extra["same_star"] == ["EPIC 201437844"]
    (on_k2,) = services.target_search(target=k2, same_star=True, **grid)
    assert on_k2.epoch_system == "BKJD" and on_k2.epoch == pytest.approx(on_tess.epoch + 2167.0, abs=1e-6)
    # K2-109 c's transit in C102 (BKJD 2778.15) folds onto the recorded ephemeris
    assert abs((2778.15 - on_k2.epoch + 0.5 * on_k2.period_days) % on_k2.period_days - 0.5 * on_k2.period_days) < 0.1
