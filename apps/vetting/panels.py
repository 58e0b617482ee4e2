"""The vetting form and the consensus on the TCE page."""

from __future__ import annotations

from django.http import HttpRequest
from django.template.loader import render_to_string

from apps.catalog.models import TCE
from apps.vetting.models import VettingLabel
from apps.vetting.selectors import consensus, current_labels


def tce_panel(request: HttpRequest, tce: TCE) -> dict:
    context = {
        "tce": tce, "labels": current_labels(tce_id=tce.pk), "consensus": consensus(tce_id=tce.pk),
        "choices": VettingLabel.Choice.choices, "user": request.user,
    }
    return {"title": "Vetting", "html": render_to_string("vetting/tce_panel.html", context, request=request)}
