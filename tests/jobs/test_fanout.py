"""A catalogue-wide scoring run split into child jobs: the parent shows their summed progress and its
children, ends when they do, and cancelling it cancels them."""

from __future__ import annotations

import pytest
import torch

from apps.jobs.models import Job, JobStatus
from apps.jobs.reconcile import reconcile_once
from apps.jobs.registry import actor_for
from apps.jobs.runner import run_job
from apps.jobs.services import job_cancel, job_enqueue
from apps.ml.science.networks import build_model, preset_config
from apps.ml.science.registry import save_model
from apps.ml.services import modelversion_register
from tests.factories import TCEFactory
from tests.workers import wait_for


@pytest.fixture
def scored_catalogue(tmp_path):
    """A default triage model and seven TCEs it has not scored (no views: each child reports them skipped)."""
    torch.manual_seed(0)
    manifest = save_model(build_model(preset_config("yu2019_triage")), tmp_path, "tiny_fanout", task="triage",
                          temperature=1.0, dtype="float32")
    modelversion_register(manifest_path=manifest, make_default=True)
    return [TCEFactory() for _ in range(7)]


def _run_parent(job: Job) -> None:
    actor = actor_for(job.kind)
    run_job(job.pk, actor.job_body, retries_left=False, validate_params=actor.validate_params)


@pytest.mark.django_db
def test_it_splits_the_run_into_batches_and_cancelling_the_parent_cancels_them(scored_catalogue, staff, client):
    parent = job_enqueue(kind="infer", params={"missing": True, "batch_size": 3}, user=staff)
    _run_parent(parent)  # no worker here: the children stay queued
    parent.refresh_from_db()
    children = list(parent.children.order_by("pk"))
    assert parent.status == JobStatus.RUNNING and parent.heartbeat_at is None
    assert parent.stage == "waiting for 3 of 3 child jobs"
    assert [len(c.params["tce_ids"]) for c in children] == [3, 3, 1]
    assert all(c.kind == "infer" and c.status == JobStatus.QUEUED and c.requested_by is None for c in children)
    # Claimed again (its worker died after queuing them): nothing new is queued.
    Job.objects.filter(pk=parent.pk).update(status=JobStatus.QUEUED)
    _run_parent(parent)
    assert parent.children.count() == 3

    client.force_login(staff)
    page = client.get(f"/jobs/{parent.pk}/").content.decode()
    assert "Child jobs" in page and f"/jobs/{children[0].pk}/" in page and "3 queued" in page
    detail = client.get(f"/api/jobs/{parent.pk}").json()
    assert detail["children_summary"]["children"] == 3 and len(detail["children"]) == 3
    assert client.get(f"/api/jobs/{children[0].pk}").json()["parent_id"] == parent.pk

    job_cancel(job=parent, user=staff)
    parent.refresh_from_db()
    assert parent.status == JobStatus.CANCELLED
    assert set(parent.children.values_list("status", flat=True)) == {JobStatus.CANCELLED}


@pytest.mark.django_db
def test_the_reconciler_ends_a_parent_whose_children_ended(scored_catalogue):
    parent = job_enqueue(kind="infer", params={"missing": True, "batch_size": 4}, user=None)
    _run_parent(parent)
    parent.children.update(status=JobStatus.SUCCEEDED, progress_done=4, progress_total=4, result={"scored": 4})
    report = reconcile_once()
    parent.refresh_from_db()
    assert report.settled == [parent.pk] and parent.status == JobStatus.SUCCEEDED
    assert parent.result["scored"] == 8 and parent.result["children"] == 2
    assert (parent.progress_done, parent.progress_total) == (8, 8)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_workers_share_the_children_and_the_parent_sums_them(worker, scored_catalogue):
    parent = job_enqueue(kind="infer", params={"missing": True, "batch_size": 3}, user=None)
    finished = wait_for(parent.pk, {JobStatus.SUCCEEDED, JobStatus.FAILED}, timeout=120)
    assert finished.status == JobStatus.SUCCEEDED, finished.error_summary
    assert finished.result["children"] == 3 and finished.result["skipped"] == 7  # no views: every TCE skipped
    assert (finished.progress_done, finished.progress_total) == (7, 7)
    assert set(finished.children.values_list("status", flat=True)) == {JobStatus.SUCCEEDED}
