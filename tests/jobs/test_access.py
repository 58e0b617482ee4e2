"""Who may queue, cancel and retry jobs, the per-user quotas, de-duplication, and what a job
page and the job API disclose to whom."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.jobs.models import Job, JobStatus
from apps.jobs.services import job_enqueue
from tests.factories import JobFactory, TargetFactory

pytestmark = pytest.mark.django_db

SECRET_PATH = "/srv/gaia/var/data/raw/kplr011442793-2009166043257_llc.fits"


def as_user(person) -> Client:  # noqa: ANN001
    client = Client()
    if person is not None:
        client.force_login(person)
    return client


def process(client: Client, target_id: int, presets=("gaia",)):  # noqa: ANN001, ANN201
    return client.post(f"/api/lightcurves/targets/{target_id}/process", {"presets": list(presets)},
                       content_type="application/json")


def test_it_returns_the_queued_job_for_an_identical_request(operator, staff):
    target = TargetFactory()
    first = process(as_user(operator), target.pk)
    again = process(as_user(staff), target.pk)
    assert (first.status_code, again.status_code) == (202, 200)
    assert first.json()["job_id"] == again.json()["job_id"] and Job.objects.count() == 1
    other = process(as_user(operator), target.pk, presets=("astronet",))
    assert other.status_code == 202 and Job.objects.count() == 2


def test_it_queues_again_once_the_identical_job_has_finished(operator):
    target = TargetFactory()
    first = process(as_user(operator), target.pk).json()["job_id"]
    Job.objects.filter(pk=first).update(status=JobStatus.SUCCEEDED)
    assert process(as_user(operator), target.pk).status_code == 202 and Job.objects.count() == 2


def test_it_limits_active_jobs_per_user_with_429_and_retry_after(settings, operator, staff):
    settings.GAIA_MAX_ACTIVE_JOBS = 2
    targets = [TargetFactory() for _ in range(4)]
    client = as_user(operator)
    assert [process(client, t.pk).status_code for t in targets[:2]] == [202, 202]
    refused = process(client, targets[2].pk)
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert Job.objects.count() == 2
    assert process(as_user(staff), targets[3].pk).status_code == 202  # admins are not limited
    Job.objects.filter(requested_by=operator).update(status=JobStatus.SUCCEEDED)
    assert process(client, targets[2].pk).status_code == 202


def test_it_limits_the_enqueue_rate_per_user(settings, operator):
    settings.GAIA_ENQUEUE_PER_MINUTE = 3
    client = as_user(operator)
    statuses = []
    for _ in range(4):
        target = TargetFactory()
        statuses.append(process(client, target.pk).status_code)
        Job.objects.filter(requested_by=operator).update(status=JobStatus.SUCCEEDED)
    assert statuses == [202, 202, 202, 429]


def test_the_quota_holds_on_every_path_not_only_the_api(settings, operator):
    from apps.core.errors import RateLimited

    settings.GAIA_MAX_ACTIVE_JOBS = 1
    job_enqueue(kind="worker_check", params={"steps": 1}, user=operator)
    with pytest.raises(RateLimited):
        job_enqueue(kind="worker_check", params={"steps": 2}, user=operator)
    # The system itself (management commands) is not a user and has no quota.
    job_enqueue(kind="worker_check", params={"steps": 3}, user=None)


def failed_job(owner):  # noqa: ANN001, ANN201
    return JobFactory(
        requested_by=owner, status=JobStatus.FAILED, params={"mirror_root": SECRET_PATH},
        error_summary=f"FitsFormatError: {SECRET_PATH} is truncated",
        error_detail=f'Traceback (most recent call last):\n  File "{SECRET_PATH}"',
        provenance={"inputs": [SECRET_PATH]},
    )


@pytest.mark.parametrize("role", ["anonymous", "viewer", "vetter"])
def test_it_hides_tracebacks_paths_and_names_from_others(role, request, staff):
    job = failed_job(staff)
    person = None if role == "anonymous" else request.getfixturevalue(role)
    client = as_user(person)
    html = client.get(f"/jobs/{job.pk}/").content.decode()
    data = client.get(f"/api/jobs/{job.pk}").json()
    listing = client.get("/api/jobs").json()["items"][0]
    for shown in (html, str(data), str(listing), client.get("/jobs/").content.decode()):
        assert SECRET_PATH not in shown and "Traceback" not in shown and staff.username not in shown
    assert "is truncated" in html and data["error_summary"] == "FitsFormatError: [path] is truncated"
    assert data["details_hidden"] and data["params"] == {} and data["requested_by"] == "a user"


@pytest.mark.parametrize("role", ["operator", "admin_user"])
def test_it_shows_everything_to_operators_and_admins(role, request, staff):
    job = failed_job(staff)
    client = as_user(request.getfixturevalue(role))
    html = client.get(f"/jobs/{job.pk}/").content.decode()
    data = client.get(f"/api/jobs/{job.pk}").json()
    assert SECRET_PATH in html and "Traceback" in html and staff.username in html
    assert data["params"]["mirror_root"] == SECRET_PATH and data["requested_by"] == staff.username


def test_a_requester_sees_their_own_job_in_full(vetter):
    job = failed_job(vetter)
    data = as_user(vetter).get(f"/api/jobs/{job.pk}").json()
    assert not data["details_hidden"] and data["requested_by"] == vetter.username


def test_operators_retry_failed_jobs_and_others_may_not(operator, vetter, staff):
    target = TargetFactory()
    job = JobFactory(kind="process_target", params={"target_id": target.pk, "presets": ["gaia"]},
                     status=JobStatus.FAILED, requested_by=staff)
    job.targets.set([target])
    assert as_user(vetter).post(f"/api/jobs/{job.pk}/retry").status_code == 403
    assert Job.objects.count() == 1
    response = as_user(operator).post(f"/api/jobs/{job.pk}/retry")
    assert response.status_code == 201
    again = Job.objects.get(pk=response.json()["id"])
    assert again.kind == job.kind and again.params == job.params and list(again.targets.all()) == [target]
    assert again.requested_by == operator
    running = JobFactory(status=JobStatus.RUNNING)
    assert as_user(operator).post(f"/api/jobs/{running.pk}/retry").status_code == 409
