"""Processing through the API and a real worker; the TCE page then shows the views."""

from __future__ import annotations

import pytest

from apps.jobs.models import JobStatus
from tests.factories import TargetFactory, TCEFactory, lightcurve_from_fits
from tests.workers import wait_for


@pytest.fixture
def processed_target(demo_data):
    target = TargetFactory(identifier="10874614", name="Kepler-6")
    lightcurve_from_fits(
        target, demo_data / "kepler" / "kplr010874614-2009131105131_llc.fits", quarter=0
    )
    tce = TCEFactory(target=target, period_days=3.2347, epoch=134.425, duration_hours=3.584)
    return target, tce


@pytest.mark.django_db(transaction=True)
def test_it_processes_a_target_on_a_worker_and_shows_the_views(
    client, user, worker, processed_target
):
    target, tce = processed_target
    client.force_login(user)
    response = client.post(
        f"/api/lightcurves/targets/{target.pk}/process",
        {"presets": ["gaia"]},
        content_type="application/json",
    )
    assert response.status_code == 202, response.content
    job = wait_for(response.json()["job_id"], {JobStatus.SUCCEEDED, JobStatus.FAILED}, timeout=120)
    assert job.status == JobStatus.SUCCEEDED, job.error_summary
    assert job.progress_done == job.progress_total == 2
    views = client.get(f"/api/lightcurves/tces/{tce.pk}/views", {"preset": "gaia"}).json()
    assert len(views["views"]["local_view"]) == 201 and views["diagnostics"]["n_transits"] >= 2
    page = client.get(f"/tces/{tce.pk}/").content.decode()
    assert "Local view" in page and "odd/even difference" in page
    assert "flattened-plot" in client.get(f"/targets/{target.pk}/").content.decode()


@pytest.mark.django_db
def test_it_refuses_bad_processing_requests(client, user):
    target = TargetFactory()
    assert (
        client.post(
            f"/api/lightcurves/targets/{target.pk}/process", {}, content_type="application/json"
        ).status_code
        == 401
    )
    client.force_login(user)
    bad = client.post(
        f"/api/lightcurves/targets/{target.pk}/process",
        {"presets": ["nope"]},
        content_type="application/json",
    )
    assert bad.status_code == 422 and "unknown preset" in bad.json()["detail"]
    bad_grid = client.post(
        f"/api/lightcurves/targets/{target.pk}/search",
        {"period_min": 5, "period_max": 1},
        content_type="application/json",
    )
    assert bad_grid.status_code == 422
    assert (
        client.post(
            "/api/lightcurves/targets/999999/process", {}, content_type="application/json"
        ).status_code
        == 404
    )
    tce = TCEFactory()
    assert client.get(f"/api/lightcurves/tces/{tce.pk}/views").status_code == 404
