"""Actors owned by the jobs app itself."""

from __future__ import annotations

import time

from apps.core.errors import InvalidInput
from apps.jobs.models import Job
from apps.jobs.runner import JobContext, job_actor


def _validate_check(params: dict) -> dict:
    try:
        steps = int(params.get("steps", 10))
        pause = float(params.get("pause_s", 0.5))
    except (TypeError, ValueError) as exc:
        raise InvalidInput("steps must be an integer and pause_s a number") from exc
    if not 1 <= steps <= 1000 or not 0 <= pause <= 10:
        raise InvalidInput("steps must be within 1..1000 and pause_s within 0..10 s")
    return {"steps": steps, "pause_s": pause}


@job_actor(
    kind="worker_check", queue_name="default", max_retries=0, time_limit_s=600, validate_params=_validate_check
)
def worker_check(job: Job, ctx: JobContext) -> dict:
    """Count to ``steps`` with a pause between steps: shows that workers run and progress flows."""
    steps = int(job.params.get("steps", 10))
    pause = float(job.params.get("pause_s", 0.5))
    ctx.stage("counting")
    for done in range(1, steps + 1):
        time.sleep(pause)
        ctx.progress(done, steps, unit="steps")
    return {"steps": steps}
