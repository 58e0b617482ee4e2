"""Target and TCE search, filters and sorting against the real PostgreSQL."""

import pytest

from apps.catalog import selectors
from apps.catalog.models import Mission
from apps.core.errors import InvalidInput, NotFound
from tests.factories import TargetFactory, TCEFactory

pytestmark = pytest.mark.django_db


def test_it_parses_prefixed_identifiers():
    assert selectors.parse_target_query("KIC 11442793").identifier == "11442793"
    assert selectors.parse_target_query("kic011442793").mission == Mission.KEPLER
    assert selectors.parse_target_query("TIC 25155310").mission == Mission.TESS
    assert selectors.parse_target_query("Kepler-90").identifier is None


def test_it_finds_a_target_by_identifier_name_and_alias():
    kepler90 = TargetFactory(identifier="11442793", name="Kepler-90", aliases=["KOI-351"])
    TargetFactory(identifier="11442794")
    tess = TargetFactory(mission=Mission.TESS, identifier="25155310", name="WASP-126")
    assert list(selectors.target_list(q="KIC 11442793")) == [kepler90]
    assert list(selectors.target_list(q="kepler-90")) == [kepler90]
    assert list(selectors.target_list(q="KOI-351")) == [kepler90]
    assert list(selectors.target_list(q="TIC 25155310")) == [tess]
    assert selectors.target_find(query="WASP-126") == tess
    with pytest.raises(NotFound):
        selectors.target_find(query="KIC 1")


def test_it_filters_by_magnitude_teff_tces_and_disposition():
    bright_hot = TargetFactory(magnitude=10.0, teff=6500)
    faint_cool = TargetFactory(magnitude=15.0, teff=4000)
    TCEFactory(target=bright_hot, disposition="PC")
    TCEFactory(target=faint_cool, disposition="AFP")
    assert list(selectors.target_list(mag_max=12)) == [bright_hot]
    assert list(selectors.target_list(teff_min=5000, teff_max=7000)) == [bright_hot]
    assert list(selectors.target_list(disposition="AFP")) == [faint_cool]
    assert set(selectors.target_list(has_tces=True)) == {bright_hot, faint_cool}
    assert list(selectors.target_list(has_tces=False)) == []


def test_it_refuses_empty_ranges_and_unknown_sorts():
    with pytest.raises(InvalidInput, match="empty"):
        list(selectors.target_list(mag_min=15, mag_max=10))
    with pytest.raises(InvalidInput, match="cannot sort"):
        selectors.target_list(sort="password")
    with pytest.raises(InvalidInput, match="unknown mission"):
        selectors.target_list(mission="hubble")


def test_it_sorts_tces_by_period_and_snr():
    target = TargetFactory()
    short = TCEFactory(target=target, period_days=1.5, snr=50)
    long = TCEFactory(target=target, period_days=300, snr=8)
    assert list(selectors.tce_list(sort="period")) == [short, long]
    assert list(selectors.tce_list(sort="-period")) == [long, short]
    assert list(selectors.tce_list(sort="snr")) == [long, short]
    assert list(selectors.tce_list(period_min=2)) == [long]


def test_targets_by_ids_returns_every_target_asked_for_and_names_the_unknown_ids():
    first, second = TargetFactory(), TargetFactory()
    assert {t.pk for t in selectors.targets_by_ids(ids=[first.pk, second.pk, first.pk])} == {first.pk, second.pk}
    assert selectors.targets_by_ids(ids=[]) == []
    missing = second.pk + 1000
    with pytest.raises(InvalidInput, match=rf"target ids \[{missing}\] do not exist"):
        selectors.targets_by_ids(ids=[first.pk, missing])


def test_it_matches_the_same_star_across_missions_by_position():
    # HD 106315: TIC 56815340 and EPIC 201437844, 0.3" apart in their catalogues
    tess = TargetFactory(mission=Mission.TESS, identifier="56815340", ra=183.47224, dec=-0.39392)
    k2 = TargetFactory(mission=Mission.K2, identifier="201437844", ra=183.47232, dec=-0.39390)
    TargetFactory(mission=Mission.KEPLER, identifier="1", ra=183.47224 + 5 / 3600, dec=-0.39392)  # 5" away
    TargetFactory(mission=Mission.TESS, identifier="2", ra=183.47224, dec=-0.39392 + 1 / 3600)  # same mission
    TargetFactory(mission=Mission.K2, identifier="3", ra=None, dec=None)
    assert selectors.same_star_targets(target=tess) == [k2]
    assert selectors.same_star_targets(target=k2)[0] == tess
    assert selectors.same_star_targets(target=TargetFactory(ra=None, dec=None)) == []


def test_it_measures_separations_across_ra_zero_and_near_the_pole():
    assert selectors.angular_separation_arcsec(359.9999, 0.0, 0.0001, 0.0) == pytest.approx(0.72, rel=1e-3)
    assert selectors.angular_separation_arcsec(0.0, 89.9999, 180.0, 89.9999) == pytest.approx(0.72, rel=1e-3)
