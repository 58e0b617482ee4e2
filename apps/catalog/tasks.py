"""The load_demo job: every app's demo step in order, with progress."""

from __future__ import annotations

import logging
from pathlib import Path

from django.conf import settings

from apps.core.demo import demo_steps
from apps.core.errors import InvalidInput
from apps.jobs.models import Job
from apps.jobs.runner import JobCancelled, JobContext, job_actor

logger = logging.getLogger(__name__)


def _validate_demo(params: dict) -> dict:
    demo_dir = Path(params.get("demo_dir") or settings.GAIA_DEMO_DATA)
    if not demo_dir.is_dir():
        raise InvalidInput(f"demo folder {demo_dir} does not exist (set GAIA_DEMO_DATA)")
    skip = [str(s) for s in params.get("skip", [])]
    return {"demo_dir": str(demo_dir), "skip": skip}


@job_actor(kind="load_demo", queue_name="cpu", max_retries=0, time_limit_s=3600, validate_params=_validate_demo)
def load_demo(job: Job, ctx: JobContext) -> dict:
    demo_dir = Path(job.params["demo_dir"])
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
