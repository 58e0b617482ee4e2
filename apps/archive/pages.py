"""The "fetch all light curves of this target" button: a POST that queues a download job."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_POST

from apps.archive.services import targets_fetch_enqueue
from apps.catalog.models import Target
from apps.core.errors import GaiaError
from apps.jobs.models import Job


def job_url(job: Job) -> str:
    """The job page if the platform names one ``jobs:detail``, else its conventional path."""
    try:
        return reverse("jobs:detail", args=[job.pk])
    except NoReverseMatch:
        return f"/jobs/{job.pk}/"


@login_required
@require_POST
def target_fetch(request: HttpRequest, target_id: int) -> HttpResponseRedirect:
    """Queue a download of every light curve of one target, then show the job."""
    target = get_object_or_404(Target, pk=target_id)
    try:
        [job] = targets_fetch_enqueue(targets=[target], user=request.user)
    except GaiaError as exc:
        messages.error(request, exc.message)
        return HttpResponseRedirect(request.POST.get("next") or "/")
    messages.success(
        request, f"Queued job {job.pk}: fetch all light curves of {target.display_id}."
    )
    return HttpResponseRedirect(job_url(job))
