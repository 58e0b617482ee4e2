"""End to end: a real Dramatiq worker, the real Redis broker and the real PostgreSQL."""

from __future__ import annotations

import pytest
from django.db import transaction

from apps.jobs.models import Job, JobStatus
from apps.jobs.services import job_cancel, job_enqueue
from tests.jobs import actors  # noqa: F401 - declares the test actors
from tests.workers import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_runs_a_job_from_queued_to_succeeded_with_progress(worker):
    with transaction.atomic():
        job = job_enqueue(kind="worker_check", params={"steps": 5, "pause_s": 0.3})
    assert Job.objects.get(pk=job.pk).status == JobStatus.QUEUED
    running = wait_for(job.pk, {JobStatus.RUNNING})
    assert running.started_at is not None
    seen = set()
    done = None
    for _ in range(400):
        done = Job.objects.get(pk=job.pk)
        seen.add(done.progress_done)
        if done.status == JobStatus.SUCCEEDED:
            break
        import time

        time.sleep(0.02)
    assert done.status == JobStatus.SUCCEEDED
    assert done.progress_done == done.progress_total == 5
    assert len(seen) >= 3, f"progress should be visible while running, saw {seen}"
    assert done.finished_at >= done.started_at
    assert "counting" in done.timings and done.provenance["parameters"] == {"steps": 5, "pause_s": 0.3}
    assert done.provenance["code_version"]


def test_it_records_the_error_of_a_failing_actor(worker):
    with transaction.atomic():
        job = job_enqueue(kind="test_fail")
    failed = wait_for(job.pk, {JobStatus.FAILED})
    assert "the star exploded" in failed.error_summary
    assert "ValueError" in failed.error_detail
    assert failed.attempts == 1


def test_it_retries_transient_errors_then_succeeds(worker):
    with transaction.atomic():
        job = job_enqueue(kind="test_flaky")
    done = wait_for(job.pk, {JobStatus.SUCCEEDED, JobStatus.FAILED})
    assert done.status == JobStatus.SUCCEEDED
    assert done.attempts == 2 and done.result == {"calls": 2}


def test_it_cancels_a_running_job_between_steps(worker):
    with transaction.atomic():
        job = job_enqueue(kind="test_long")
    wait_for(job.pk, {JobStatus.RUNNING})
    job_cancel(job=Job.objects.get(pk=job.pk))
    cancelled = wait_for(job.pk, {JobStatus.CANCELLED}, timeout=10)
    assert cancelled.progress_done < 399
    assert cancelled.finished_at is not None


def test_it_ignores_a_redelivered_message_for_a_finished_job(worker, broker):
    with transaction.atomic():
        job = job_enqueue(kind="worker_check", params={"steps": 1, "pause_s": 0})
    done = wait_for(job.pk, {JobStatus.SUCCEEDED})
    from apps.jobs.registry import actor_for

    actor_for("worker_check").send(job.pk)  # a duplicate delivery
    import time

    time.sleep(1.0)
    again = Job.objects.get(pk=job.pk)
    assert again.attempts == done.attempts == 1
    assert again.finished_at == done.finished_at
