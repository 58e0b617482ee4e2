"""Model cards and the "score this target" button."""

from __future__ import annotations

import numpy as np
from bokeh.embed import components
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.catalog.models import Target
from apps.core.errors import GaiaError
from apps.core.http import page_object
from apps.jobs.services import job_enqueue
from apps.ml import selectors
from apps.ml.models import ModelVersion
from apps.ml.science.registry import DEFAULT_CHOICE
from apps.plots.figures import curve_figure, reliability_figure


def model_list(request: HttpRequest) -> HttpResponse:
    return render(request, "ml/model_list.html", {"versions": selectors.modelversion_list()})


def _curves(version) -> dict:  # noqa: ANN001
    """Bokeh figures: ROC and PR (validation), reliability before/after scaling, injection-recovery."""
    curves = version.metrics.get("curves") or {}
    figures = {}
    if "roc" in curves:
        figures["roc"] = curve_figure(curves["roc"]["fpr"], curves["roc"]["tpr"], title="ROC (validation)",
                                      x_label="false-positive rate", y_label="true-positive rate", diagonal=True)
    if "pr" in curves:
        figures["pr"] = curve_figure(curves["pr"]["recall"], curves["pr"]["precision"],
                                     title="Precision-recall (validation)", x_label="recall", y_label="precision")
    calibration = version.manifest.get("calibration") or {}
    if calibration.get("reliability_before") or calibration.get("reliability_after"):
        figures["reliability"] = reliability_figure(calibration.get("reliability_before"), calibration.get("reliability_after"))
    recovery = selectors.injection_recovery(version=version)
    if recovery:
        figures["injection"] = curve_figure(
            recovery["mes"], recovery["recall"], title="Injection-recovery: search + classifier (score ≥ 0.5)",
            x_label="injected MES", y_label="recall",
            reference=(np.asarray(recovery["mes"]), np.asarray(recovery["kepler"])),
        )
    return figures


def _cross_validation_rows(figures: dict | None) -> list[tuple[str, dict, list[float]]]:
    """(metric, {"mean", "sd"}, value per fold) for the card's cross-validation table."""
    if not figures:
        return []
    return [(name, summary, [row[name] for row in figures["folds"]]) for name, summary in figures["summary"].items()]


@page_object(selectors.modelversion_get, "version_id")
def model_detail(request: HttpRequest, version: ModelVersion) -> HttpResponse:
    figures = _curves(version)
    script, divs = components(figures) if figures else ("", {})
    context = {
        "version": version,
        "manifest": version.manifest,
        "training": version.manifest.get("training", {}),
        "metrics": version.metrics.get("validation") or {k: v for k, v in version.metrics.items() if not isinstance(v, (dict, list))},
        "calibration": {k: v for k, v in (version.manifest.get("calibration") or {}).items() if not isinstance(v, (dict, list))},
        "cross_validation": version.metrics.get("cross_validation"),
        "cross_validation_rows": _cross_validation_rows(version.metrics.get("cross_validation")),
        "n_predictions": version.predictions.count(),
        "default_missions": selectors.default_missions(version),
        "domain": selectors.training_domain(version),
        "default_choice": DEFAULT_CHOICE,
        "recovery": selectors.injection_recovery(version=version),
        "bokeh": bool(figures),
        "plot_script": script,
        "plots": divs,
    }
    return render(request, "ml/model_detail.html", context)


@require_POST
@login_required
def score_target(request: HttpRequest, target_id: int) -> HttpResponse:
    try:
        target = Target.objects.get(pk=target_id)
        job = job_enqueue(kind="infer", params={"target_id": target.pk}, targets=[target], user=request.user)
    except (GaiaError, Target.DoesNotExist) as exc:
        messages.error(request, getattr(exc, "message", str(exc)))
        return redirect("target-detail", target_id=target_id)
    return redirect("job-detail", job_id=job.pk)
