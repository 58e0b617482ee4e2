"""The infer actor: score TCEs in batches with a registered model (cpu queue)."""

from __future__ import annotations

from apps.jobs.models import Job
from apps.jobs.runner import JobContext, job_actor
from apps.ml import services


@job_actor(kind="infer", queue_name="cpu", max_retries=1, time_limit_s=3600, validate_params=services.infer_params_validate)
def infer(job: Job, ctx: JobContext) -> dict:
    version = services.modelversion_resolve(name_or_id=job.params.get("model"), task=job.params["task"])
    ctx.add_input(f"weights:{version.name}", version.weights_sha256)
    tces = services.infer_select_tces(job.params, version)
    ctx.stage("scoring")
    return services.tces_score(
        tces=tces, version=version, job=job,
        on_progress=lambda done, total: ctx.progress(done, total, unit="TCEs"),
        check_cancelled=ctx.check_cancelled,
    )
