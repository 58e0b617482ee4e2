"""Job endpoints: list, detail (polled by the job page), enqueue and cancel."""


from django.http import HttpRequest
from ninja import Query, Router
from ninja.pagination import LimitOffsetPagination, paginate
from ninja.security import django_auth

from apps.catalog.models import Target
from apps.core.errors import InvalidInput, PermissionDeniedError
from apps.jobs import selectors, services
from apps.jobs.models import Job
from apps.jobs.registry import JOB_ACTORS, autodiscover_tasks
from apps.jobs.schemas import JobDetailOut, JobFilters, JobIn, JobOut

router = Router(tags=["jobs"])


def job_payload(job: Job, *, with_artifacts: bool = False) -> dict:
    data = {field: getattr(job, field) for field in JobOut.model_fields if field != "target_ids"}
    data["target_ids"] = list(job.targets.values_list("id", flat=True))
    if with_artifacts:
        data["artifacts"] = list(selectors.artifacts_for_job(job=job))
    return data


@router.get("/jobs", response=list[JobOut])
@paginate(LimitOffsetPagination)
def list_jobs(request: HttpRequest, filters: Query[JobFilters]):
    return [job_payload(job) for job in selectors.job_list(**filters.dict())[:500]]


@router.get("/jobs/kinds", response=list[str])
def list_job_kinds(request: HttpRequest):
    autodiscover_tasks()
    return sorted(JOB_ACTORS)


@router.get("/jobs/{job_id}", response=JobDetailOut)
def get_job(request: HttpRequest, job_id: int):
    return job_payload(selectors.job_get(job_id=job_id), with_artifacts=True)


@router.post("/jobs", response={201: JobOut}, auth=django_auth)
def enqueue_job(request: HttpRequest, payload: JobIn):
    targets = list(Target.objects.filter(pk__in=payload.target_ids))
    missing = set(payload.target_ids) - {t.pk for t in targets}
    if missing:
        raise InvalidInput(f"unknown target ids: {sorted(missing)}")
    job = services.job_enqueue(kind=payload.kind, params=payload.params, targets=targets, user=request.user)
    return 201, job_payload(job)


@router.post("/jobs/{job_id}/cancel", response=JobOut, auth=django_auth)
def cancel_job(request: HttpRequest, job_id: int):
    job = selectors.job_get(job_id=job_id)
    if not (request.user.is_staff or job.requested_by_id == request.user.pk):
        raise PermissionDeniedError("only staff or the user who asked may cancel this job")
    return job_payload(services.job_cancel(job=job))
