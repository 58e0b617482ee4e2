"""Database constraints protect the catalogue's invariants."""

import pytest
from django.db import IntegrityError, transaction

from apps.catalog.models import Mission
from tests.factories import TargetFactory, TCEFactory

pytestmark = pytest.mark.django_db


def test_it_keeps_identifiers_unique_per_mission():
    TargetFactory(mission=Mission.KEPLER, identifier="42")
    TargetFactory(mission=Mission.TESS, identifier="42")
    with pytest.raises(IntegrityError), transaction.atomic():
        TargetFactory(mission=Mission.KEPLER, identifier="42")


def test_it_refuses_nonpositive_periods_and_bad_coordinates():
    with pytest.raises(IntegrityError), transaction.atomic():
        TCEFactory(period_days=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        TargetFactory(dec=120.0)


def test_it_keeps_tce_numbers_unique_per_source_and_release():
    tce = TCEFactory(tce_number=1)
    TCEFactory(target=tce.target, tce_number=1, source="kepler_dr25", release="DR25")
    with pytest.raises(IntegrityError), transaction.atomic():
        TCEFactory(target=tce.target, tce_number=1)


def test_it_builds_search_names_from_ids_and_aliases():
    target = TargetFactory(identifier="8462852", name="Boyajian's star", aliases=["Tabby's star"])
    assert {"kic 8462852", "kic8462852", "8462852", "boyajian's star", "tabby's star"} <= set(target.search_names)
