"""The reduce_eclipse actor (cpu queue): decode → calibrate → aspect → photon list → image → movie → photometry."""

from __future__ import annotations

from apps.galex import services
from apps.galex.models import Eclipse
from apps.jobs.models import Job
from apps.jobs.runner import JobContext, job_actor


@job_actor(
    kind="reduce_eclipse",
    queue_name="cpu",
    max_retries=0,
    time_limit_s=6 * 3600,
    validate_params=services.reduce_params_validate,
)
def reduce_eclipse(job: Job, ctx: JobContext) -> dict:
    eclipse = Eclipse.objects.get(pk=job.params["eclipse_id"])
    for name, sha in eclipse.inputs.items():
        ctx.add_input(name, sha)
    return services.eclipse_reduce(
        eclipse=eclipse,
        depth=job.params["depth"],
        compression=job.params["compression"],
        burst=job.params["burst"],
        aperture_sizes=job.params.get("aperture_sizes", [12.8]),
        pixel_convention=job.params.get("pixel_convention", "gaia"),
        coregister=job.params.get("coregister", False),
        photometry_only=job.params.get("photometry_only", False),
        threads=job.params.get("threads", 1),
        job=job,
        on_stage=ctx.stage,
        on_progress=lambda done, total: ctx.progress(done, total, unit="steps"),
        should_cancel=ctx.cancel_requested,
    )
