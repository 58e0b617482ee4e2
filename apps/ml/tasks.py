"""The infer actor: score TCEs in batches with a registered model (cpu queue)."""

from __future__ import annotations

from apps.jobs.models import Job
from apps.jobs.runner import JobContext, job_actor
from apps.ml import services


@job_actor(kind="infer", queue_name="cpu", max_retries=1, time_limit_s=3600, validate_params=services.infer_params_validate)
def infer(job: Job, ctx: JobContext) -> dict:
    """Score with the named model, or each TCE with its mission's default (`services.infer_plan`)."""
    plan = services.infer_plan(job.params)
    for version, _ in plan:
        ctx.add_input(f"weights:{version.name}", version.weights_sha256)
    if job.params.get("batch_size"):
        ctx.stage("queuing batches")
        services.infer_fan_out(job=job, plan=plan)  # queues child jobs and waits for them
        return {"scored": 0, "skipped": {}}  # nothing was missing a score
    ctx.stage("scoring")
    results = [
        services.tces_score(
            tces=tces, version=version, job=job,
            on_progress=lambda done, total: ctx.progress(done, total, unit="TCEs"),
            check_cancelled=ctx.check_cancelled,
        )
        for version, tces in plan
        if len(plan) == 1 or tces.exists()  # a mission's default with none of its TCEs here is not loaded
    ]
    if len(results) == 1:
        return results[0]
    return {
        "models": {r["model"]: r["scored"] for r in results},
        "scored": sum(r["scored"] for r in results),
        "skipped": {k: v for r in results for k, v in r["skipped"].items()},
    }


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
