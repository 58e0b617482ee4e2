"""Actors used only by the tests: one that fails, one that fails transiently, one that runs long."""

from __future__ import annotations

import time

from apps.jobs.models import Job
from apps.jobs.runner import JobContext, TransientJobError, job_actor

CALLS: dict[int, int] = {}


@job_actor(kind="test_fail", queue_name="default", max_retries=0)
def always_fails(job: Job, ctx: JobContext) -> dict:
    ctx.stage("about to fail")
    raise ValueError("the star exploded")


@job_actor(kind="test_flaky", queue_name="default", max_retries=2, min_backoff_ms=10)
def flaky(job: Job, ctx: JobContext) -> dict:
    CALLS[job.pk] = CALLS.get(job.pk, 0) + 1
    if CALLS[job.pk] < 2:
        raise TransientJobError("archive busy")
    return {"calls": CALLS[job.pk]}


@job_actor(kind="test_long", queue_name="default", max_retries=0)
def long_running(job: Job, ctx: JobContext) -> dict:
    ctx.stage("looping")
    for step in range(1, 400):
        time.sleep(0.05)
        ctx.progress(step, 400)
    return {}
