"""Job pages: the list, a live job page (polls /api/jobs/<id>), enqueue and cancel forms."""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.accounts.permissions import MANAGE_JOBS, job_permission, user_can
from apps.core.errors import GaiaError
from apps.core.http import page_object
from apps.core.pagination import CappedPaginator
from apps.jobs import selectors, services
from apps.jobs.disclosure import may_see_details, redact_paths, requester_name
from apps.jobs.fanout import CHILDREN_SHOWN, children_summary
from apps.jobs.models import Job, JobStatus
from apps.jobs.registry import JOB_ACTORS, autodiscover_tasks
from apps.jobs.report import report_summary

PAGE_SIZE = 50


def job_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status") or None
    kind = request.GET.get("kind") or None
    page = CappedPaginator(selectors.job_list(status=status, kind=kind), PAGE_SIZE).get_page(request.GET.get("page"))
    autodiscover_tasks()
    return render(request, "jobs/job_list.html", {"jobs": page, "page": page, "kinds": sorted(JOB_ACTORS),
                                                  "status": status, "kind": kind})


@page_object(selectors.job_get, "job_id")
def job_detail(request: HttpRequest, job: Job) -> HttpResponse:
    """The live job page; ``?fragment=1`` renders only its details (job.js swaps them in when the
    job's status changes, so a finished job shows its final state without a reload)."""
    full = may_see_details(user=request.user, job=job)
    result = job.result if full else redact_paths(job.result)
    context = {
        "job": job,
        "details_shown": full,
        "requester": requester_name(user=request.user, job=job),
        "error_message": job.error_summary if full else redact_paths(job.error_summary),
        "artifacts": selectors.artifacts_for_job(job=job),
        "targets": job.targets.all(),
        "can_cancel": services.job_may_manage(user=request.user, job=job) and not job.is_finished,
        "can_retry": user_can(request.user, MANAGE_JOBS) and job.status in (JobStatus.FAILED, JobStatus.CANCELLED),
        "summary": report_summary(result, job.params if full else {}),
        "result_json": json.dumps(result, indent=2, default=str),
        "provenance_json": json.dumps(job.provenance, indent=2, default=str) if full else "",
        "timings_json": json.dumps(job.timings, indent=2, default=str) if full else "",
        "children_summary": children_summary(job),
        "children": selectors.children_of(job=job)[:CHILDREN_SHOWN],
    }
    if request.GET.get("fragment"):
        return render(request, "jobs/_job_details.html", context)
    return render(request, "jobs/job_detail.html", context)


@require_POST
def job_cancel(request: HttpRequest, job_id: int) -> HttpResponse:
    try:
        job = services.job_cancel(job=selectors.job_get(job_id=job_id), user=request.user)
        messages.info(request, f"Cancellation of job {job.pk} requested.")
    except GaiaError as exc:
        messages.error(request, exc.message)
    return redirect("job-detail", job_id=job_id)


@require_POST
def job_retry(request: HttpRequest, job_id: int) -> HttpResponse:
    try:
        job = services.job_retry(job=selectors.job_get(job_id=job_id), user=request.user)
        messages.info(request, f"Job {job_id} queued again as job {job.pk}.")
        return redirect("job-detail", job_id=job.pk)
    except GaiaError as exc:
        messages.error(request, exc.message)
    return redirect("job-detail", job_id=job_id)


def _kinds_for(user) -> list[str]:  # noqa: ANN001
    """Job kinds the user may queue with given targets (the form lists only those)."""
    return [kind for kind in sorted(JOB_ACTORS) if user_can(user, job_permission(kind, {}, [0]))]


def job_enqueue(request: HttpRequest) -> HttpResponse:
    """Operators' form: choose a job kind, give its parameters as JSON and optional target ids."""
    autodiscover_tasks()
    error = None
    if request.method == "POST":
        kind = request.POST.get("kind", "")
        try:
            params = json.loads(request.POST.get("params") or "{}")
            if not isinstance(params, dict):
                raise ValueError("parameters must be a JSON object")
            ids = [int(x) for x in request.POST.get("target_ids", "").replace(",", " ").split()]
            targets = selectors.job_subjects(ids=ids)
            job = services.job_enqueue(kind=kind, params=params, targets=targets, user=request.user)
            return redirect("job-detail", job_id=job.pk)
        except (ValueError, GaiaError) as exc:
            error = getattr(exc, "message", str(exc))
    return render(request, "jobs/job_enqueue.html", {"kinds": _kinds_for(request.user), "error": error, "post": request.POST})


def artifact_download(request: HttpRequest, artifact_id: int) -> HttpResponse:
    """Stream a product file with its original name (artifacts are public products, like the pages)."""
    from pathlib import PurePosixPath

    from django.http import FileResponse, Http404

    from apps.core.storage import product_open
    from apps.jobs.models import Artifact

    artifact = Artifact.objects.filter(pk=artifact_id).first()
    if artifact is None:
        raise Http404(f"artifact {artifact_id} does not exist")
    try:
        handle = product_open(artifact.path)  # from the disk or the object store
    except FileNotFoundError as exc:
        raise Http404(f"the file of artifact {artifact_id} is missing") from exc
    return FileResponse(handle, as_attachment=True, filename=PurePosixPath(artifact.path).name)
