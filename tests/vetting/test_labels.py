"""People label TCEs; the newest label per person counts and a majority makes the consensus."""

import pytest

from apps.vetting.selectors import consensus
from apps.vetting.services import label_add
from tests.factories import TCEFactory

pytestmark = pytest.mark.django_db


def test_it_counts_each_persons_newest_label(user, staff):
    tce = TCEFactory()
    label_add(tce=tce, user=user, label="EB")
    label_add(tce=tce, user=user, label="PC")
    label_add(tce=tce, user=staff, label="PC")
    agreed = consensus(tce_id=tce.pk)
    assert agreed.label == "PC" and agreed.votes == {"PC": 2} and agreed.n_people == 2


def test_it_has_no_consensus_on_a_tie(user, staff):
    tce = TCEFactory()
    label_add(tce=tce, user=user, label="EB")
    label_add(tce=tce, user=staff, label="PC")
    assert consensus(tce_id=tce.pk).label is None


def test_it_labels_through_the_page_and_the_api(client, user):
    tce = TCEFactory()
    assert client.post(f"/api/vetting/tces/{tce.pk}/labels", {"label": "PC"}, content_type="application/json").status_code == 401
    client.force_login(user)
    assert client.post(f"/api/vetting/tces/{tce.pk}/labels", {"label": "XX"}, content_type="application/json").status_code == 422
    assert client.post(f"/api/vetting/tces/{tce.pk}/labels", {"label": "EB", "comment": "V-shaped"}, content_type="application/json").status_code == 201
    response = client.post(f"/tces/{tce.pk}/label/", {"label": "PC"})
    assert response.status_code == 302
    body = client.get(f"/api/vetting/tces/{tce.pk}/labels").json()
    assert body["label"] == "PC" and body["n_people"] == 1
    assert "Vetting" in client.get(f"/tces/{tce.pk}/").content.decode()
