"""Vetting pages: the vetting screen of one TCE, and saving a label from the TCE page."""

from __future__ import annotations

from bokeh.embed import components
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from apps.accounts.permissions import EXPORT_LABELS, LABEL, user_can
from apps.catalog.models import TCE
from apps.catalog.selectors import tce_get
from apps.core.errors import GaiaError, NotFound, PermissionDeniedError
from apps.core.http import not_found, page_object
from apps.jobs.services import job_enqueue
from apps.vetting.models import DECISIVE_LABELS, FLAG_CHOICES, CatalogLabelSource, VettingLabel
from apps.vetting.screen import vet_figures, vet_screen
from apps.vetting.selectors import (
    QUEUES,
    conflict_list,
    current_labels,
    my_history,
    queue_list,
    vetting_stats,
)
from apps.vetting.services import adjudicate, label_add, queue_next, queue_rows_sync


@require_POST
@login_required
def label(request: HttpRequest, tce_id: int) -> HttpResponse:
    try:
        tce = tce_get(tce_id=tce_id)
        label_add(tce=tce, user=request.user, label=request.POST.get("label", ""), comment=request.POST.get("comment", ""))
        messages.info(request, "Label saved.")
    except GaiaError as exc:
        messages.error(request, exc.message)
    return redirect("tce-detail", tce_id=tce_id)


@page_object(tce_get, "tce_id")
def vet_tce(request: HttpRequest, tce: TCE) -> HttpResponse:
    """One screen to vet a TCE: header, linked panels, re-fold, and the label form for labellers."""
    screen = vet_screen(tce=tce, user=request.user, preset=request.GET.get("preset"))
    plots = vet_figures(tce=tce, preset=screen.preset) if screen.preset else None
    script, divs = components(plots.figures) if plots and plots.figures else ("", {})
    queue = request.GET.get("queue", "")[:32]
    context = {
        "screen": screen, "tce": tce, "plots": plots, "plot_script": script, "divs": divs, "bokeh": bool(divs),
        "queue": queue, "can_label": user_can(request.user, LABEL), "flag_choices": FLAG_CHOICES,
        "confidence_choices": VettingLabel.Confidence.choices,
        "page_config": {
            "tceId": tce.pk, "queue": queue, "labelsUrl": f"/api/vetting/tces/{tce.pk}/labels",
            "nextUrl": reverse("vet-next"), "catalogue": {"period": tce.period_days, "epoch": tce.epoch, "duration": tce.duration_hours},
            "preset": screen.preset, "viewsVersion": plots.views_version if plots else None,
            "keys": [code for code, _text, _key in screen.label_keys],
        },
    }
    return render(request, "vetting/vet_tce.html", context)


def vet_queues(request: HttpRequest) -> HttpResponse:
    """The queues with your counts, your newest labels, and (adjudicators) the export button."""
    queue_rows_sync()
    context = {
        "queues": queue_list(user=request.user, now=timezone.now()), "history": my_history(user=request.user)[:50],
        "can_export": user_can(request.user, EXPORT_LABELS), "sources": CatalogLabelSource.choices,
    }
    return render(request, "vetting/queues.html", context)


def vet_next(request: HttpRequest) -> HttpResponse:
    """Claim the next TCE of ``?queue=NAME`` and go to its vetting page (back to /vet/ when empty)."""
    queue = request.POST.get("queue") or request.GET.get("queue") or "unlabelled"
    try:
        claimed = queue_next(user=request.user, queue=queue)
    except PermissionDeniedError as exc:
        return render(request, "403.html", {"message": exc.message}, status=403)
    except NotFound as exc:
        return not_found(request, exc)
    if claimed is None:
        title = QUEUES[queue].title if queue in QUEUES else queue
        messages.info(request, f"Nothing left for you in “{title}”.")
        return redirect("vet-queues")
    tce, _expires = claimed
    return redirect(reverse("vet-tce", kwargs={"tce_id": tce.pk}) + "?" + urlencode({"queue": queue}))


def vet_stats(request: HttpRequest) -> HttpResponse:
    return render(request, "vetting/stats.html", {"stats": vetting_stats()})


def vet_conflicts(request: HttpRequest) -> HttpResponse:
    """TCEs whose labels disagree, each with its labels and an adjudication form."""
    page = Paginator(conflict_list(), 25).get_page(request.GET.get("page"))
    rows = [{"state": state, "labels": current_labels(tce_id=state.tce_id)} for state in page]
    choices = [(code, VettingLabel.Choice(code).label) for code in DECISIVE_LABELS]
    return render(request, "vetting/conflicts.html", {"page": page, "rows": rows, "choices": choices})


@require_POST
def vet_adjudicate(request: HttpRequest, tce_id: int) -> HttpResponse:
    try:
        adjudicate(tce=tce_get(tce_id=tce_id), user=request.user, label=request.POST.get("label", ""),
                   reason=request.POST.get("reason", ""))
        messages.info(request, f"TCE {tce_id} adjudicated.")
    except GaiaError as exc:
        messages.error(request, exc.message)
    return redirect("vet-conflicts")


@require_POST
def vet_export(request: HttpRequest) -> HttpResponse:
    """Queue an export_labels job (the snapshot becomes downloadable artifacts on the job page)."""
    try:
        job = job_enqueue(kind="export_labels", params={"include_sources": request.POST.getlist("include_sources")},
                          user=request.user)
    except GaiaError as exc:
        messages.error(request, exc.message)
        return redirect("vet-queues")
    return redirect("job-detail", job_id=job.pk)
