"""The team pages: queues, next, statistics, conflicts with adjudication, the export button."""

from __future__ import annotations

import pytest

from apps.jobs.models import Job
from apps.vetting.models import CatalogLabel
from apps.vetting.services import label_add
from tests.factories import TCEFactory
from tests.vetting.conftest import model_version, scored

pytestmark = pytest.mark.django_db


def test_the_queue_page_lists_counts_and_my_labels(client, vetter):
    done = TCEFactory()
    TCEFactory()
    label_add(tce=done, user=vetter, label="EB", comment="deep secondary")
    client.force_login(vetter)
    page = client.get("/vet/").content.decode()
    assert "Needs labels" in page and "Conflicts" not in page and "deep secondary" in page
    assert "Export snapshot" not in page  # vetters do not export


def test_next_claims_and_redirects_to_the_vetting_page_with_the_queue(client, vetter):
    tce = TCEFactory()
    client.force_login(vetter)
    response = client.get("/vet/next/", {"queue": "unlabelled"})
    assert response.status_code == 302 and response["Location"] == f"/vet/tces/{tce.pk}/?queue=unlabelled"
    empty = client.get("/vet/next/", {"queue": "unlabelled"})
    assert empty["Location"] == "/vet/"
    assert "Nothing left" in client.get("/vet/").content.decode()


def test_stats_show_kappas_and_agreement_with_catalogue_and_model(client, vetter, vetters):
    version = model_version()
    tces = [TCEFactory() for _ in range(4)]
    for tce, (a, b), p in zip(tces, [("PC", "PC"), ("EB", "EB"), ("PC", "EB"), ("J", "J")], [0.9, 0.8, 0.5, 0.1], strict=True):
        label_add(tce=tce, user=vetter, label=a)
        label_add(tce=tce, user=vetters[0], label=b)
        scored(tce, version, p)
    CatalogLabel.objects.create(tce=tces[0], source="dr24", label="PC", original="PC")
    CatalogLabel.objects.create(tce=tces[1], source="dr24", label="FP", original="AFP")
    page = client.get("/vet/stats/").content.decode()
    # vera/vbob on 4 TCEs: the hand-computed Fleiss kappa of the same table is 26/42 = 0.619
    assert "0.619" in page and "vbob" in page and "Kepler DR24" in page and "triage_test" in page


def test_adjudicators_resolve_conflicts_on_their_page_and_queue_an_export(client, vetter, vetters, adjudicator):
    tce = TCEFactory()
    label_add(tce=tce, user=vetter, label="PC")
    label_add(tce=tce, user=vetters[0], label="V")
    client.force_login(adjudicator)
    assert tce.label in client.get("/vet/conflicts/").content.decode()
    response = client.post(f"/vet/tces/{tce.pk}/adjudicate/", {"label": "V", "reason": "starspots"})
    assert response.status_code == 302
    assert client.get(f"/api/vetting/tces/{tce.pk}/labels").json()["final_label"] == "V"
    assert "No conflicts" in client.get("/vet/conflicts/").content.decode()
    assert "Export snapshot" in client.get("/vet/").content.decode()
    exported = client.post("/vet/export/", {"include_sources": ["dr24"]})
    job = Job.objects.get(kind="export_labels")
    assert exported["Location"] == f"/jobs/{job.pk}/" and job.params == {"include_sources": ["dr24"]}
