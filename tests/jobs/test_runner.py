"""The actor wrapper: atomic claim, throttled progress, cancellation and stale-job recovery."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.jobs.models import Job, JobStatus
from apps.jobs.runner import JobCancelled, JobContext, claim_job, run_job
from tests.factories import JobFactory

pytestmark = pytest.mark.django_db


def test_it_claims_a_queued_job_once():
    job = JobFactory()
    assert claim_job(job.pk).status == JobStatus.RUNNING
    assert claim_job(job.pk) is None


def test_it_reclaims_a_running_job_whose_worker_died():
    job = JobFactory(status=JobStatus.RUNNING, heartbeat_at=timezone.now() - timedelta(minutes=10))
    claimed = claim_job(job.pk)
    assert claimed is not None and claimed.attempts == 1


def test_it_does_not_claim_a_live_running_job():
    job = JobFactory(status=JobStatus.RUNNING, heartbeat_at=timezone.now())
    assert claim_job(job.pk) is None


def test_it_finishes_a_job_cancelled_while_queued():
    job = JobFactory(cancel_requested=True)
    assert claim_job(job.pk) is None
    assert Job.objects.get(pk=job.pk).status == JobStatus.CANCELLED


def test_it_throttles_progress_writes(settings):
    settings.GAIA_PROGRESS_MAX_PER_SECOND = 2
    job = JobFactory(status=JobStatus.RUNNING)
    ctx = JobContext(job)
    ctx.progress(1, 100)
    for done in range(2, 50):
        ctx.progress(done, 100)
    assert Job.objects.get(pk=job.pk).progress_done == 1
    ctx.progress(50, 100, force=True)
    assert Job.objects.get(pk=job.pk).progress_done == 50


def test_it_raises_cancelled_when_asked():
    job = JobFactory(status=JobStatus.RUNNING)
    ctx = JobContext(job)
    Job.objects.filter(pk=job.pk).update(cancel_requested=True)
    with pytest.raises(JobCancelled):
        ctx.check_cancelled()


def test_it_records_inputs_and_result_in_the_finished_row():
    job = JobFactory()

    def body(job, ctx):
        ctx.stage("reading")
        ctx.add_input("kplr.fits", "ab" * 32)
        ctx.progress(3, 3)
        return {"answer": 42}

    run_job(job.pk, body, retries_left=False)
    done = Job.objects.get(pk=job.pk)
    assert done.status == JobStatus.SUCCEEDED and done.result == {"answer": 42}
    assert done.provenance["inputs"] == {"kplr.fits": "ab" * 32}
    assert "reading" in done.timings


def test_it_records_the_last_progress_even_when_a_report_was_throttled(settings):
    settings.GAIA_PROGRESS_MAX_PER_SECOND = 1
    job = JobFactory()

    def body(job, ctx):
        ctx.stage("work")
        ctx.progress(1, 2)  # within the throttle interval of the stage write: not written yet
        ctx.progress(2, 2)
        return {}

    run_job(job.pk, body, retries_left=False)
    done = Job.objects.get(pk=job.pk)
    assert (done.progress_done, done.progress_total) == (2, 2)
