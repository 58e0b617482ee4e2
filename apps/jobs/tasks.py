"""Actors owned by the jobs app itself: ``worker_check`` and ``load_demo``.

``load_demo`` runs the steps every app registers with ``apps.core.demo.register_demo_step`` (in its
AppConfig.ready()); it knows none of them, so infrastructure imports no domain app.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from django.conf import settings

from apps.core.bounds import params_validate
from apps.core.demo import demo_steps
from apps.core.errors import InvalidInput
from apps.jobs.models import Job
from apps.jobs.params import LoadDemoParams, WorkerCheckParams
from apps.jobs.runner import JobCancelled, JobContext, job_actor

logger = logging.getLogger(__name__)


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


def _validate_demo(params: dict) -> dict:
    clean = params_validate(LoadDemoParams, params, what="load_demo")
    known = [step.name for step in demo_steps()]
    unknown = [name for name in clean.skip if name not in known]
    if unknown:
        raise InvalidInput(f"unknown demo step(s) {unknown}; the steps are {known}")
    if not Path(settings.GAIA_DEMO_DATA).is_dir():
        raise InvalidInput(f"demo folder {settings.GAIA_DEMO_DATA} does not exist (set GAIA_DEMO_DATA)")
    return clean.model_dump()


@job_actor(kind="load_demo", queue_name="cpu", max_retries=0, time_limit_s=3600, validate_params=_validate_demo)
def load_demo(job: Job, ctx: JobContext) -> dict:
    demo_dir = Path(settings.GAIA_DEMO_DATA)  # a folder is never taken from a request
    report: dict = {}
    errors: dict[str, str] = {}
    for step in demo_steps():
        if step.name in job.params.get("skip", []):
            report[step.name] = "skipped"
            continue
        ctx.stage(step.name)
        try:
            report[step.name] = step.run(demo_dir, ctx)
        except JobCancelled:
            raise
        except Exception as exc:  # noqa: BLE001 - one broken step must not hide the others' data
            logger.exception("load_demo step %r failed", step.name)
            errors[step.name] = f"{type(exc).__name__}: {exc}"
    if errors:
        report["errors"] = errors
    return report
