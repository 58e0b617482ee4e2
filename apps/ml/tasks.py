"""The infer actor: score TCEs in batches with a registered model (cpu queue)."""

from __future__ import annotations

from apps.jobs.models import Job
from apps.jobs.runner import JobContext, job_actor
from apps.ml import services


@job_actor(kind="infer", queue_name="cpu", max_retries=1, time_limit_s=3600, validate_params=services.infer_params_validate)
def infer(job: Job, ctx: JobContext) -> dict:
    version = services.modelversion_resolve(name_or_id=job.params.get("model"), task=job.params["task"])
    ctx.add_input(f"weights:{version.name}", version.weights_sha256)
    if job.params.get("batch_size"):
        ctx.stage("queuing batches")
        services.infer_fan_out(job=job, version=version)  # queues child jobs and waits for them
        return {"scored": 0, "skipped": {}}  # nothing was missing a score
    tces = services.infer_select_tces(job.params, version)
    ctx.stage("scoring")
    return services.tces_score(
        tces=tces, version=version, job=job,
        on_progress=lambda done, total: ctx.progress(done, total, unit="TCEs"),
        check_cancelled=ctx.check_cancelled,
    )


@job_actor(kind="train_model", queue_name="cpu", max_retries=0, time_limit_s=6 * 3600, validate_params=services.train_params_validate)
def train_model(job: Job, ctx: JobContext) -> dict:
    stage = {"name": None}

    def progress(done: int, total: int, name: str) -> None:
        if name != stage["name"]:
            stage["name"] = name
            ctx.stage(name)
        ctx.progress(done, total, unit="steps")

    version = services.model_train(params=job.params, job=job, on_progress=progress, should_cancel=ctx.cancel_requested)
    return {"model_version": version.pk, "name": version.name, "metrics": version.metrics}
