"""A job's report reads as a summary with links to what the job made or touched, and the job page's
details fragment (what job.js swaps in when a job ends) discloses no more than the page."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.galex.models import Eclipse
from apps.jobs.models import Artifact, JobStatus
from apps.jobs.report import report_summary
from tests.factories import JobFactory, TargetFactory, TCEFactory

pytestmark = pytest.mark.django_db

SECRET_PATH = "/srv/gaia/var/data/raw/kplr011442793-2009166043257_llc.fits"


def links_of(summary) -> dict[str, list[tuple[str, str]]]:  # noqa: ANN001
    return dict(summary.links)


def test_it_links_ids_found_anywhere_in_the_report():
    target = TargetFactory(identifier="2306740")
    tce = TCEFactory(target=target, tce_number=1)
    eclipse = Eclipse.objects.create(number=23456, band="NUV")
    other = JobFactory()
    artifact = Artifact.objects.create(kind="views", key=f"tce/{tce.pk}/views/gaia", version=2, path="a.npz", sha256="0" * 64)
    report = {
        "found": [{"tce_id": tce.pk, "period": 10.3}, {"tce_id": 999_999}],  # an unknown id is left out
        "target_id": target.pk, "eclipse_id": eclipse.pk, "ingest_job_id": other.pk,
        "manifest_artifact_id": artifact.pk, "eclipse": "e23456 NUV",
    }
    links = links_of(report_summary(report))
    assert links["TCEs"] == [(f"{tce.label} (Kepler Q1-Q17 DR24 TCE)", f"/tces/{tce.pk}/")]
    assert links["Targets"] == [(str(target), f"/targets/{target.pk}/")]
    assert links["Eclipses"] == [(str(eclipse), f"/galex/{eclipse.pk}/")]
    assert links["Jobs"] == [(f"job #{other.pk} (worker_check)", f"/jobs/{other.pk}/")]
    assert links["Artifacts"] == [(f"views tce/{tce.pk}/views/gaia v2", f"/artifacts/{artifact.pk}/download/")]


def test_it_shows_plain_values_and_counts_the_long_ones():
    facts = dict(report_summary({
        "scored": 3, "presets": ["gaia", "yu2019"], "skipped": {"a": "why", "b": "why"},
        "found": [{"tce_id": 1}], "tces": {str(n): {"gaia": 1} for n in range(3)}, "eclipse": "e23456 NUV",
        "model_version": 5, "depth": 0.000123456789,
    }).facts)
    assert facts == {
        "scored": "3", "presets": "gaia, yu2019", "skipped": "a: why, b: why", "found": "1 item",
        "tces": "3 entries", "eclipse": "e23456 NUV", "depth": "0.000123457",
    }  # model_version is an id: a link, not a value


def test_the_details_fragment_shows_the_summary_artifacts_and_a_download_link(operator):
    target = TargetFactory()
    tce = TCEFactory(target=target)
    job = JobFactory(kind="search_target", status=JobStatus.SUCCEEDED, attempts=1, requested_by=operator,
                     result={"found": [{"tce_id": tce.pk}]}, provenance={"code_version": "0.1.0"})
    artifact = Artifact.objects.create(job=job, kind="views", key="tce/1/views/gaia", version=1, path="a.npz", sha256="0" * 64)
    client = Client()
    client.force_login(operator)
    html = client.get(f"/jobs/{job.pk}/?fragment=1").content.decode()
    assert "<html" not in html and 'id="job-summary"' in html and 'id="job-artifacts"' in html
    assert f'href="/tces/{tce.pk}/"' in html and f'href="/artifacts/{artifact.pk}/download/"' in html
    assert "code_version" in html and "<details" in html


@pytest.mark.parametrize("role", ["anonymous", "viewer"])
def test_the_details_fragment_hides_what_the_page_hides(role, request, staff):
    job = JobFactory(requested_by=staff, status=JobStatus.FAILED, params={"mirror_root": SECRET_PATH},
                     error_detail=f'Traceback (most recent call last):\n  File "{SECRET_PATH}"',
                     result={"failures": [SECRET_PATH]}, provenance={"inputs": [SECRET_PATH]})
    client = Client()
    if role != "anonymous":
        client.force_login(request.getfixturevalue(role))
    html = client.get(f"/jobs/{job.pk}/?fragment=1").content.decode()
    assert SECRET_PATH not in html and "Traceback" not in html and staff.username not in html
    assert "[path]" in html
