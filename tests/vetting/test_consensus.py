"""Each label rewrites the TCE's status: needs labels, agreed, conflict, adjudicated."""

from __future__ import annotations

import pytest

from apps.core.errors import InvalidInput, PermissionDeniedError
from apps.vetting.models import LABEL_ORDER, VettingLabel, VettingState
from apps.vetting.selectors import state_of
from apps.vetting.services import adjudicate, label_add
from tests.factories import TCEFactory

pytestmark = pytest.mark.django_db


def _status(tce) -> tuple[str, str, int]:  # noqa: ANN001
    state = VettingState.objects.get(tce=tce)
    return state.status, state.label, state.n_labels


def test_it_keeps_the_label_order_the_page_binds_to_keys():
    assert LABEL_ORDER == ("PC", "EB", "NEB", "FP", "V", "IS", "J", "?")


def test_it_agrees_when_enough_people_give_the_same_decisive_label(vetter, vetters):
    tce = TCEFactory()
    label_add(tce=tce, user=vetter, label="PC")
    assert _status(tce) == ("needs_labels", "", 1)
    label_add(tce=tce, user=vetters[0], label="?")  # unsure: looked, but no vote
    assert _status(tce) == ("needs_labels", "", 1)
    label_add(tce=tce, user=vetters[1], label="PC", confidence="high")
    assert _status(tce) == ("agreed", "PC", 2)
    assert VettingState.objects.get(tce=tce).n_people == 3


def test_it_marks_a_conflict_and_the_newest_label_per_person_counts(vetter, vetters):
    tce = TCEFactory()
    label_add(tce=tce, user=vetter, label="PC")
    label_add(tce=tce, user=vetters[0], label="NEB", flags=["centroid_offset"])
    assert _status(tce) == ("conflict", "", 2)
    label_add(tce=tce, user=vetter, label="NEB")  # vera changes her mind: history kept, newest counts
    assert _status(tce) == ("agreed", "NEB", 2)
    assert VettingLabel.objects.filter(tce=tce).count() == 3


def test_an_adjudication_is_final_and_the_newest_one_counts(vetter, vetters, adjudicator):
    tce = TCEFactory()
    label_add(tce=tce, user=vetter, label="PC")
    label_add(tce=tce, user=vetters[0], label="EB")
    adjudicate(tce=tce, user=adjudicator, label="EB", reason="secondary eclipse at phase 0.5")
    assert _status(tce) == ("adjudicated", "EB", 2)
    adjudicate(tce=tce, user=adjudicator, label="NEB", reason="centroid shifts in transit")
    label_add(tce=tce, user=vetters[1], label="PC")  # later labels do not undo an adjudication
    assert _status(tce) == ("adjudicated", "NEB", 3)


def test_it_refuses_bad_labels_and_roles(vetter, viewer):
    tce = TCEFactory()
    for kwargs, message in [
        ({"label": "XX"}, "unknown label"), ({"label": "PC", "confidence": "very"}, "confidence"),
        ({"label": "PC", "flags": ["odd_even", "made_up"]}, "unknown flag"), ({"label": "PC", "period": -1}, "period"),
        ({"label": "PC", "period": 1.0, "duration": 30.0}, "shorter than the period"),
        ({"label": "PC", "views_version": 3}, "no views version"),
    ]:
        with pytest.raises(InvalidInput, match=message):
            label_add(tce=tce, user=vetter, **kwargs)
    with pytest.raises(PermissionDeniedError):
        label_add(tce=tce, user=viewer, label="PC")
    with pytest.raises(PermissionDeniedError):
        adjudicate(tce=tce, user=vetter, label="PC", reason="sure")
    assert not VettingLabel.objects.exists() and state_of(tce_id=tce.pk).status == "needs_labels"


def test_it_stores_flags_in_a_fixed_order_and_a_proposed_ephemeris(vetter):
    tce = TCEFactory()
    row = label_add(tce=tce, user=vetter, label="EB", flags=["secondary", "odd_even", "secondary"],
                    period=20.0, epoch=135.5, duration=3.1, comment="  period doubled  ")
    row.refresh_from_db()
    assert row.flags == ["odd_even", "secondary"] and row.comment == "period doubled"
    assert (row.period_days, row.epoch, row.duration_hours) == (20.0, 135.5, 3.1)
    assert row.views_version is None and row.views_preset == ""


def test_an_adjudication_needs_a_decisive_label_and_a_reason(adjudicator):
    tce = TCEFactory()
    with pytest.raises(InvalidInput, match="reason"):
        adjudicate(tce=tce, user=adjudicator, label="PC", reason="  ")
    with pytest.raises(InvalidInput, match="decisive"):
        adjudicate(tce=tce, user=adjudicator, label="?", reason="hm")
