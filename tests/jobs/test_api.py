"""Job endpoints: list, detail, enqueue (logged in only) and cancel."""

import pytest

from apps.jobs.models import Job
from tests.factories import JobFactory, TargetFactory

pytestmark = pytest.mark.django_db


def test_it_lists_and_shows_jobs(client):
    job = JobFactory()
    assert client.get("/api/jobs").json()["count"] == 1
    detail = client.get(f"/api/jobs/{job.pk}").json()
    assert detail["kind"] == "worker_check" and detail["artifacts"] == []
    assert client.get("/api/jobs/424242").status_code == 404
    assert "worker_check" in client.get("/api/jobs/kinds").json()


def test_it_requires_login_to_enqueue(client):
    response = client.post("/api/jobs", {"kind": "worker_check"}, content_type="application/json")
    assert response.status_code == 401


def test_it_enqueues_for_a_logged_in_user(client, user):
    client.force_login(user)
    target = TargetFactory()
    response = client.post(
        "/api/jobs",
        {"kind": "worker_check", "params": {"steps": 2}, "target_ids": [target.pk]},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    job = Job.objects.get(pk=response.json()["id"])
    assert job.requested_by == user and list(job.targets.all()) == [target]


def test_it_explains_bad_enqueue_requests(client, user):
    client.force_login(user)
    bad_kind = client.post("/api/jobs", {"kind": "nope"}, content_type="application/json")
    assert bad_kind.status_code == 422 and "no actor" in bad_kind.json()["detail"]
    bad_target = client.post("/api/jobs", {"kind": "worker_check", "target_ids": [99999]}, content_type="application/json")
    assert bad_target.status_code == 422 and "99999" in bad_target.json()["detail"]


def test_it_lets_only_the_owner_or_an_operator_cancel(client, vetter, staff):
    job = JobFactory(requested_by=staff)
    assert client.post(f"/api/jobs/{job.pk}/cancel").status_code == 401
    client.force_login(vetter)
    assert client.post(f"/api/jobs/{job.pk}/cancel").status_code == 403
    job.refresh_from_db()
    assert job.status == "queued" and not job.cancel_requested
    client.force_login(staff)
    response = client.post(f"/api/jobs/{job.pk}/cancel")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert client.post(f"/api/jobs/{job.pk}/cancel").status_code == 409
