"""Job endpoints: list, detail (polled by the job page), enqueue and cancel."""


from django.db.models import Prefetch
from django.http import HttpRequest
from ninja import Query, Router
from ninja.pagination import paginate

from apps.core.pagination import LimitOffsetPagination, MappedRows
from apps.jobs import selectors, services
from apps.jobs.disclosure import may_see_details, redact_paths, requester_name
from apps.jobs.fanout import CHILDREN_SHOWN, children_summary
from apps.jobs.models import Job
from apps.jobs.registry import JOB_ACTORS, autodiscover_tasks
from apps.jobs.schemas import JobDetailOut, JobFilters, JobIn, JobOut, queued_status

router = Router(tags=["jobs"])

#: Shown only to operators, admins and the job's requester (apps/jobs/disclosure.py).
PRIVATE_FIELDS = ("params", "provenance")


def job_payload(job: Job, *, user=None, with_artifacts: bool = False) -> dict:  # noqa: ANN001
    data = {field: getattr(job, field) for field in JobOut.model_fields if field not in ("target_ids", "requested_by", "details_hidden", "dispatch_pending")}
    data["dispatch_pending"] = job.dispatch_pending
    data["target_ids"] = [target.pk for target in job.targets.all()]  # prefetched by list_jobs
    data["requested_by"] = requester_name(user=user, job=job)
    full = may_see_details(user=user, job=job)
    data["details_hidden"] = not full
    if not full:
        for field in PRIVATE_FIELDS:
            data[field] = {}
        data["error_summary"] = redact_paths(job.error_summary)
        data["stage"] = redact_paths(job.stage)
        data["result"] = redact_paths(job.result)
    if with_artifacts:
        artifacts = list(selectors.artifacts_for_job(job=job))
        data["artifacts"] = artifacts if full else [_artifact_without_path(a) for a in artifacts]
        summary = children_summary(job)
        if summary is not None:  # a parent: its progress is its children's, summed
            data["children_summary"] = summary
            data["children"] = list(selectors.children_of(job=job)[:CHILDREN_SHOWN].values(
                "id", "status", "progress_done", "progress_total"))
            data["progress_done"], data["progress_total"] = summary["progress_done"], summary["progress_total"]
            data["fraction"] = min(1.0, summary["progress_done"] / summary["progress_total"]) if summary["progress_total"] else None
    return data


def _artifact_without_path(artifact) -> dict:  # noqa: ANN001
    return {
        "id": artifact.pk, "kind": artifact.kind, "key": artifact.key, "version": artifact.version,
        "path": f"/artifacts/{artifact.pk}/download/", "sha256": artifact.sha256,
        "size_bytes": artifact.size_bytes, "created_at": artifact.created_at,
    }


@router.get("/jobs", response=list[JobOut])
@paginate(LimitOffsetPagination)
def list_jobs(request: HttpRequest, filters: Query[JobFilters]):
    # Sliced in the database; only the page's jobs become payloads (their targets in one query).
    jobs = selectors.job_list(**filters.dict()).prefetch_related(Prefetch("targets", queryset=selectors.job_subject_ids()))
    return MappedRows(jobs, lambda page: [job_payload(job, user=request.user) for job in page])


@router.get("/jobs/kinds", response=list[str])
def list_job_kinds(request: HttpRequest):
    autodiscover_tasks()
    return sorted(JOB_ACTORS)


@router.get("/jobs/{job_id}", response=JobDetailOut)
def get_job(request: HttpRequest, job_id: int):
    return job_payload(selectors.job_get(job_id=job_id), user=request.user, with_artifacts=True)


@router.post("/jobs", response={200: JobOut, 201: JobOut})
def enqueue_job(request: HttpRequest, payload: JobIn):
    targets = selectors.job_subjects(ids=payload.target_ids)
    job = services.job_enqueue(kind=payload.kind, params=payload.params, targets=targets, user=request.user)
    return queued_status(job, created=201), job_payload(job, user=request.user)


@router.post("/jobs/{job_id}/cancel", response=JobOut)
def cancel_job(request: HttpRequest, job_id: int):
    """Cancel a job: your own, or any job if you are an operator or admin."""
    job = services.job_cancel(job=selectors.job_get(job_id=job_id), user=request.user)
    return job_payload(job, user=request.user)


@router.post("/jobs/{job_id}/retry", response={201: JobOut, 200: JobOut})
def retry_job(request: HttpRequest, job_id: int):
    """Queue a fresh copy of a failed or cancelled job (operators and admins)."""
    job = services.job_retry(job=selectors.job_get(job_id=job_id), user=request.user)
    return queued_status(job, created=201), job_payload(job, user=request.user)
