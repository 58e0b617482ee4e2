"""Buttons on the target page: enqueue processing or a transit search (logged-in users)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from apps.catalog.models import Target
from apps.core.errors import GaiaError
from apps.jobs.services import job_enqueue


def _enqueue(request: HttpRequest, target_id: int, kind: str) -> HttpResponse:
    try:
        target = Target.objects.get(pk=target_id)
        job = job_enqueue(kind=kind, params={"target_id": target.pk}, targets=[target], user=request.user)
    except (GaiaError, Target.DoesNotExist) as exc:
        messages.error(request, getattr(exc, "message", str(exc)))
        return redirect("target-detail", target_id=target_id)
    return redirect("job-detail", job_id=job.pk)


@require_POST
@login_required
def process(request: HttpRequest, target_id: int) -> HttpResponse:
    return _enqueue(request, target_id, "process_target")


@require_POST
@login_required
def search(request: HttpRequest, target_id: int) -> HttpResponse:
    return _enqueue(request, target_id, "search_target")
