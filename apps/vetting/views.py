"""Saving a vetting label from the TCE page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from apps.catalog.selectors import tce_get
from apps.core.errors import GaiaError
from apps.vetting.services import label_add


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
