"""Actors owned by the jobs app itself."""

from __future__ import annotations

import time

from apps.core.bounds import params_validate
from apps.jobs.models import Job
from apps.jobs.params import WorkerCheckParams
from apps.jobs.runner import JobContext, job_actor


def _validate_check(params: dict) -> dict:
    return params_validate(WorkerCheckParams, params, what="worker_check").model_dump()


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
