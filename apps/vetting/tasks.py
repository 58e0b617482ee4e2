"""The export_labels actor: write the labels snapshot as artifacts (default queue)."""

from __future__ import annotations

from apps.jobs.models import Job
from apps.jobs.runner import JobContext, job_actor
from apps.vetting.services.export import export_params_validate, labels_export_artifacts


@job_actor(kind="export_labels", queue_name="default", max_retries=1, time_limit_s=3600, validate_params=export_params_validate)
def export_labels(job: Job, ctx: JobContext) -> dict:
    ctx.stage("exporting labels")
    return labels_export_artifacts(include_sources=job.params.get("include_sources", []), job=job)
