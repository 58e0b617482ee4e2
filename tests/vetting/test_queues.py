"""The queues: who gets which TCE next, in which order, and how claims hold label slots."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.errors import NotFound, PermissionDeniedError
from apps.ml.models import Prediction
from apps.vetting.models import VettingClaim
from apps.vetting.selectors import queue_count, queue_walk
from apps.vetting.services import label_add, queue_next, queue_rows_sync
from tests.factories import TCEFactory
from tests.vetting.conftest import model_version, scored

pytestmark = pytest.mark.django_db


def _order(queue: str, user) -> list[int]:  # noqa: ANN001
    queue_rows_sync()
    return queue_walk(queue=queue, user=user, now=timezone.now(), batch=50)


def test_uncertain_serves_scores_closest_to_one_half_first_and_reads_the_newest_score(vetter):
    version, other = model_version(), model_version("not_default", default=False)
    tces = [TCEFactory() for _ in range(4)]
    for tce, p in zip(tces, [0.9, 0.52, 0.05, 0.35], strict=True):
        scored(tce, version, p)
    scored(tces[2], version, 0.5, minutes_ago=60)  # an older score of the same model does not count
    scored(tces[0], other, 0.5)  # nor does another model's
    unscored = TCEFactory()
    assert _order("uncertain", vetter) == [tces[1].pk, tces[3].pk, tces[0].pk, tces[2].pk]
    assert unscored.pk not in _order("uncertain", vetter)
    tce, expires = queue_next(user=vetter, queue="uncertain")
    assert tce == tces[1] and expires > timezone.now() + timedelta(minutes=9)


def test_disagree_serves_the_most_confident_contradictions_of_the_catalogue_first(vetter):
    version = model_version()
    cases = {  # disposition, probability
        "strong_fp": ("AFP", 0.99), "weak_fp": ("NTP", 0.6), "agrees": ("PC", 0.97),
        "missed_pc": ("PC", 0.1), "unknown": ("UNK", 0.99),
    }
    tces = {}
    for name, (disposition, p) in cases.items():
        tces[name] = TCEFactory(disposition=disposition)
        scored(tces[name], version, p)
    # Triage counts AFP positive (astrophysical), so only NTP at 0.6 and PC at 0.1 contradict it.
    assert _order("disagree", vetter) == [tces["missed_pc"].pk, tces["weak_fp"].pk]


def test_unlabelled_serves_the_highest_snr_first_and_tces_without_snr_last(vetter):
    low, none, high = TCEFactory(snr=8.0), TCEFactory(snr=None), TCEFactory(snr=50.0)
    assert _order("unlabelled", vetter) == [high.pk, low.pk, none.pk]


def test_nobody_gets_a_tce_they_labelled_or_that_has_all_its_labels(vetter, vetters):
    first, second = TCEFactory(snr=30.0), TCEFactory(snr=20.0)
    label_add(tce=first, user=vetter, label="PC")
    assert _order("unlabelled", vetter) == [second.pk]
    assert _order("unlabelled", vetters[0]) == [first.pk, second.pk]
    label_add(tce=first, user=vetters[0], label="PC")  # agreed: done
    assert _order("unlabelled", vetters[1]) == [second.pk]


def test_live_claims_hold_the_slots_a_tce_still_needs(vetter, vetters, settings):
    settings.GAIA_LABELS_PER_TCE = 2
    tce = TCEFactory()
    assert queue_next(user=vetter, queue="unlabelled")[0] == tce
    assert queue_next(user=vetters[0], queue="unlabelled")[0] == tce
    assert queue_next(user=vetters[1], queue="unlabelled") is None  # two claims for two missing labels
    label_add(tce=tce, user=vetter, label="PC")  # a claim turned into a label: still full
    assert queue_next(user=vetters[1], queue="unlabelled") is None
    VettingClaim.objects.filter(user=vetters[0]).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert queue_next(user=vetters[1], queue="unlabelled")[0] == tce  # an expired claim frees its slot


def test_asking_for_the_next_one_skips_the_current_one_and_frees_its_slot(vetter, vetters, settings):
    settings.GAIA_LABELS_PER_TCE = 1
    first, second = TCEFactory(snr=30.0), TCEFactory(snr=20.0)
    assert queue_next(user=vetter, queue="unlabelled")[0] == first
    assert queue_next(user=vetter, queue="unlabelled")[0] == second  # skipped: not handed back at once
    assert queue_next(user=vetters[0], queue="unlabelled")[0] == first  # its slot is free for others
    assert queue_next(user=vetter, queue="unlabelled") is None


def test_conflicts_are_for_adjudicators_who_did_not_label_the_tce(vetter, vetters, adjudicator):
    tce = TCEFactory()
    label_add(tce=tce, user=vetter, label="PC")
    label_add(tce=tce, user=vetters[0], label="J")
    with pytest.raises(PermissionDeniedError):
        queue_next(user=vetter, queue="conflicts")
    queue_rows_sync()
    assert queue_count(queue="conflicts", user=adjudicator, now=timezone.now()) == (1, False)
    assert queue_next(user=adjudicator, queue="conflicts")[0] == tce
    assert not VettingClaim.objects.filter(user=vetter).exists()


def test_mine_is_a_history_and_unknown_queues_are_refused(vetter):
    tce = TCEFactory()
    label_add(tce=tce, user=vetter, label="PC")
    label_add(tce=tce, user=vetter, label="EB")
    assert queue_count(queue="mine", user=vetter, now=timezone.now()) == (1, False)
    assert queue_next(user=vetter, queue="mine") is None
    with pytest.raises(NotFound):
        queue_next(user=vetter, queue="nope")


def test_counts_stop_at_the_cap(vetter):
    for _ in range(5):
        TCEFactory()
    queue_rows_sync()
    assert queue_count(queue="unlabelled", user=vetter, now=timezone.now(), cap=3) == (3, True)
    assert queue_count(queue="uncertain", user=vetter, now=timezone.now()) == (0, False)  # no default model


def test_the_queues_follow_rescoring_new_tces_and_a_new_default_model(vetter):
    old = model_version("old")
    a, b = TCEFactory(snr=10.0), TCEFactory(snr=20.0)
    scored(a, old, 0.45)
    scored(b, old, 0.9)
    assert _order("uncertain", vetter) == [a.pk, b.pk]
    scored(b, old, 0.52)  # re-scored: the newest score counts at the next call
    assert _order("uncertain", vetter) == [b.pk, a.pk]
    c = TCEFactory(snr=99.0)  # a new TCE joins the unlabelled queue
    assert _order("unlabelled", vetter) == [c.pk, b.pk, a.pk]
    new = model_version("new", default=False)
    scored(a, new, 0.7)
    scored(c, new, 0.5)
    old.is_default, new.is_default = False, True
    old.save(update_fields=["is_default"])
    new.save(update_fields=["is_default"])
    assert _order("uncertain", vetter) == [c.pk, a.pk]  # b has no score from the new default


def test_a_score_committed_late_with_a_lower_id_is_still_picked_up(vetter):
    version = model_version()
    a, b, late = TCEFactory(), TCEFactory(), TCEFactory()
    placeholder = scored(a, version, 0.9)
    scored(b, version, 0.8)
    free_id = placeholder.pk
    placeholder.delete()  # an id handed out to a transaction that commits after the next one did
    assert _order("uncertain", vetter) == [b.pk]
    straggler = scored(late, version, 0.5)
    straggler.delete()
    Prediction.objects.create(id=free_id, tce=late, model_version=version, raw_score=0.5, probability=0.5, views_version=1)
    assert _order("uncertain", vetter) == [late.pk, b.pk]
