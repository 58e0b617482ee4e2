"""Actors for light-curve processing and transit search (cpu queue)."""

from __future__ import annotations

from apps.catalog.models import Target
from apps.jobs.models import Job
from apps.jobs.runner import JobContext, job_actor
from apps.lightcurves import services


@job_actor(
    kind="process_target", queue_name="cpu", max_retries=1, time_limit_s=3600,
    validate_params=services.process_params_validate,
)
def process_target(job: Job, ctx: JobContext) -> dict:
    target = Target.objects.get(pk=job.params["target_id"])
    ctx.stage("flatten and build views")
    return services.target_process(
        target=target, presets=job.params["presets"], job=job,
        on_progress=lambda done, total: ctx.progress(done, total, unit="steps"),
        check_cancelled=ctx.check_cancelled,
    )


@job_actor(
    kind="search_target", queue_name="cpu", max_retries=1, time_limit_s=3600,
    validate_params=services.search_params_validate,
)
def search_target(job: Job, ctx: JobContext) -> dict:
    target = Target.objects.get(pk=job.params["target_id"])
    ctx.stage("box least squares search")
    ctx.progress(0, 1)
    params = {k: v for k, v in job.params.items() if k != "target_id"}
    found = services.target_search(target=target, job=job, **params)
    ctx.progress(1, 1)
    return {"found": [{"tce_id": t.pk, **{k: t.extra.get(k) for k in ("period", "epoch", "duration_hours", "depth_ppm", "snr", "sde")}} for t in found]}
