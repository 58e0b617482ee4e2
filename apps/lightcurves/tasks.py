"""Actors for light-curve processing and transit search (cpu queue)."""

from __future__ import annotations

from collections.abc import Callable

from apps.catalog.models import Target
from apps.jobs.models import Job
from apps.jobs.runner import JobContext, job_actor
from apps.lightcurves import services


def _target_actor(kind: str, validate_params: Callable[[dict], dict]):  # noqa: ANN202 - job_actor's decorator
    """A per-target actor of the cpu queue: one retry, an hour at the most."""
    return job_actor(
        kind=kind, queue_name="cpu", max_retries=1, time_limit_s=3600, validate_params=validate_params
    )


def _target(job: Job) -> Target:
    return Target.objects.get(pk=job.params["target_id"])


@_target_actor("process_target", services.process_params_validate)
def process_target(job: Job, ctx: JobContext) -> dict:
    target = _target(job)
    ctx.stage("flatten and build views")
    return services.target_process(
        target=target, presets=job.params["presets"], job=job,
        on_progress=lambda done, total: ctx.progress(done, total, unit="steps"),
        check_cancelled=ctx.check_cancelled,
    )


@_target_actor("search_target", services.search_params_validate)
def search_target(job: Job, ctx: JobContext) -> dict:
    target = _target(job)
    ctx.stage("box least squares search")
    ctx.progress(0, 1)
    params = {k: v for k, v in job.params.items() if k != "target_id"}
    found = services.target_search(target=target, job=job, **params)
    ctx.progress(1, 1)
    return {"found": [{"tce_id": t.pk, **{k: t.extra.get(k) for k in ("period", "epoch", "duration_hours", "depth_ppm", "snr", "sde")}} for t in found]}
