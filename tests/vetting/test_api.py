"""The vetting API as the vetting page and scripts use it."""

from __future__ import annotations

import pytest
from django.utils.dateparse import parse_datetime

from apps.vetting.models import VettingClaim
from apps.vetting.services import label_add
from tests.factories import TCEFactory

pytestmark = pytest.mark.django_db


def test_it_labels_with_confidence_flags_and_a_proposed_ephemeris(client, vetter):
    tce = TCEFactory()
    client.force_login(vetter)
    body = {"label": "NEB", "confidence": "high", "comment": "shift in transit", "flags": ["centroid_offset", "v_shape"],
            "period": 20.0, "epoch": 140.5, "duration": 2.5}
    created = client.post(f"/api/vetting/tces/{tce.pk}/labels", body, content_type="application/json")
    assert created.status_code == 201, created.content
    out = created.json()
    assert {k: out[k] for k in body} == body and out["user"] == "vera" and out["views_version"] is None
    bad = client.post(f"/api/vetting/tces/{tce.pk}/labels", {"label": "PC", "flags": ["nope"]}, content_type="application/json")
    assert bad.status_code == 422 and "unknown flag" in bad.json()["detail"]


def test_get_labels_keeps_its_fields_and_adds_status_history_and_adjudication(client, vetter, vetters, adjudicator):
    tce = TCEFactory()
    label_add(tce=tce, user=vetter, label="EB")
    label_add(tce=tce, user=vetter, label="PC")
    label_add(tce=tce, user=vetters[0], label="EB")
    body = client.get(f"/api/vetting/tces/{tce.pk}/labels").json()
    assert body["label"] is None and body["votes"] == {"PC": 1, "EB": 1} and body["n_people"] == 2
    assert body["status"] == "conflict" and body["final_label"] is None and body["adjudication"] is None
    assert [h["label"] for h in body["history"]] == ["EB", "PC", "EB"] and len(body["labels"]) == 2
    client.force_login(adjudicator)
    made = client.post(f"/api/vetting/tces/{tce.pk}/adjudication", {"label": "EB", "reason": "secondary"},
                       content_type="application/json")
    assert made.status_code == 201 and made.json()["user"] == "ada"
    body = client.get(f"/api/vetting/tces/{tce.pk}/labels").json()
    assert body["status"] == "adjudicated" and body["final_label"] == "EB" and body["adjudication"]["reason"] == "secondary"


def test_next_claims_a_tce_and_answers_204_when_the_queue_is_empty(client, vetter):
    tce = TCEFactory()
    client.force_login(vetter)
    first = client.post("/api/vetting/queues/unlabelled/next")
    assert first.status_code == 200 and first.json()["tce_id"] == tce.pk
    expires = parse_datetime(first.json()["claim_expires_at"])
    assert abs((VettingClaim.objects.get(user=vetter).expires_at - expires).total_seconds()) < 0.001
    assert client.post("/api/vetting/queues/unlabelled/next").status_code == 204
    assert client.post("/api/vetting/queues/nope/next").status_code == 404


def test_it_lists_queues_with_counts_and_conflicts_for_adjudicators(client, vetter, vetters, adjudicator):
    conflicted = TCEFactory()
    TCEFactory()
    label_add(tce=conflicted, user=vetters[0], label="PC")
    label_add(tce=conflicted, user=vetters[1], label="J")
    client.force_login(vetter)
    queues = {q["name"]: q for q in client.get("/api/vetting/queues").json()}
    assert set(queues) == {"uncertain", "disagree", "unlabelled", "mine"}  # conflicts: adjudicators only
    assert queues["unlabelled"]["count"] == 1 and queues["mine"]["serves"] is False
    client.force_login(adjudicator)
    assert "conflicts" in {q["name"] for q in client.get("/api/vetting/queues").json()}
    page = client.get("/api/vetting/conflicts", {"limit": 10}).json()
    assert page["count"] == 1 and page["items"][0]["tce_id"] == conflicted.pk
    assert page["items"][0]["votes"] == {"PC": 1, "J": 1} and len(page["items"][0]["labels"]) == 2


def test_a_bearer_token_works_for_the_queue(client, vetter):
    from apps.accounts.services import api_token_create

    TCEFactory()
    secret = api_token_create(user=vetter, name="script").secret
    response = client.post("/api/vetting/queues/unlabelled/next", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 200
