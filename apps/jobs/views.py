"""Job pages: the list, a live job page (polls /api/jobs/<id>), enqueue and cancel forms."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.catalog.models import Target
from apps.core.errors import GaiaError, NotFound
from apps.core.http import not_found
from apps.jobs import selectors, services
from apps.jobs.registry import JOB_ACTORS, autodiscover_tasks


def job_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status") or None
    kind = request.GET.get("kind") or None
    jobs = selectors.job_list(status=status, kind=kind)[:200]
    autodiscover_tasks()
    return render(request, "jobs/job_list.html", {"jobs": jobs, "kinds": sorted(JOB_ACTORS), "status": status, "kind": kind})


def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    try:
        job = selectors.job_get(job_id=job_id)
    except NotFound as exc:
        return not_found(request, exc)
    can_cancel = request.user.is_authenticated and (request.user.is_staff or job.requested_by_id == request.user.pk)
    context = {
        "job": job,
        "artifacts": selectors.artifacts_for_job(job=job),
        "targets": job.targets.all(),
        "can_cancel": can_cancel and not job.is_finished,
        "result_json": json.dumps(job.result, indent=2, default=str),
        "provenance_json": json.dumps(job.provenance, indent=2, default=str),
    }
    return render(request, "jobs/job_detail.html", context)


@require_POST
@login_required
def job_cancel(request: HttpRequest, job_id: int) -> HttpResponse:
    try:
        job = selectors.job_get(job_id=job_id)
        if not (request.user.is_staff or job.requested_by_id == request.user.pk):
            messages.error(request, "Only staff or the user who asked may cancel this job.")
        else:
            services.job_cancel(job=job)
            messages.info(request, f"Cancellation of job {job.pk} requested.")
    except GaiaError as exc:
        messages.error(request, exc.message)
    return redirect("job-detail", job_id=job_id)


@staff_member_required
def job_enqueue(request: HttpRequest) -> HttpResponse:
    """Staff form: choose a job kind, give its parameters as JSON and optional target ids."""
    autodiscover_tasks()
    error = None
    if request.method == "POST":
        kind = request.POST.get("kind", "")
        try:
            params = json.loads(request.POST.get("params") or "{}")
            if not isinstance(params, dict):
                raise ValueError("parameters must be a JSON object")
            ids = [int(x) for x in request.POST.get("target_ids", "").replace(",", " ").split()]
            targets = list(Target.objects.filter(pk__in=ids))
            if len(targets) != len(set(ids)):
                raise ValueError("some target ids do not exist")
            job = services.job_enqueue(kind=kind, params=params, targets=targets, user=request.user)
            return redirect("job-detail", job_id=job.pk)
        except (ValueError, GaiaError) as exc:
            error = getattr(exc, "message", str(exc))
    return render(request, "jobs/job_enqueue.html", {"kinds": sorted(JOB_ACTORS), "error": error, "post": request.POST})


def artifact_download(request: HttpRequest, artifact_id: int) -> HttpResponse:
    """Stream a product file with its original name (artifacts are public products, like the pages)."""
    from django.http import FileResponse, Http404

    from apps.core.files import resolve_data_path
    from apps.jobs.models import Artifact

    artifact = Artifact.objects.filter(pk=artifact_id).first()
    if artifact is None:
        raise Http404(f"artifact {artifact_id} does not exist")
    path = resolve_data_path(artifact.path)
    if not path.is_file():
        raise Http404(f"the file of artifact {artifact_id} is missing")
    return FileResponse(open(path, "rb"), as_attachment=True, filename=path.name)  # noqa: SIM115 - FileResponse closes it
