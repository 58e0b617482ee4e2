"""The score section of the TCE page: newest prediction per model, and disagreement with the catalogue."""

from __future__ import annotations

from django.http import HttpRequest
from django.template.loader import render_to_string

from apps.catalog.models import TCE
from apps.ml.selectors import default_version, predictions_for_tce, tce_cadences, tce_domain_warning

#: Catalogue dispositions counted positive per task. Triage separates astrophysical signals (planets
#: and eclipsing binaries, so Kepler AFPs too) from junk; vetting keeps planet candidates only.
POSITIVE = {"triage": {"PC", "EB", "CP", "KP", "APC", "AFP"}, "vetting": {"PC", "CP", "KP", "APC"}}
THRESHOLD = 0.5


def disagreement(tce: TCE, task: str, probability: float) -> bool:
    """True when the model and a definite catalogue disposition point opposite ways."""
    if tce.disposition in ("UNK", ""):
        return False
    catalogue_positive = tce.disposition in POSITIVE.get(task, set())
    return catalogue_positive != (probability >= THRESHOLD)


def tce_panel(request: HttpRequest, tce: TCE) -> dict | None:
    """Each model's newest score, which one is the TCE's default (mission) for its task, and a warning
    where the TCE lies outside the model's training domain (mission, cadence, period range)."""
    newest: dict[int, object] = {}
    for prediction in predictions_for_tce(tce_id=tce.pk):
        newest.setdefault(prediction.model_version_id, prediction)
    cadences = tce_cadences(target_id=tce.target_id)
    defaults = {task: default_version(task, tce.mission) for task in {p.model_version.task for p in newest.values()}}
    rows = [
        {
            "prediction": p,
            "disagrees": disagreement(tce, p.model_version.task, p.probability),
            "warning": tce_domain_warning(p.model_version, tce, cadences=cadences),
            "is_default": getattr(defaults[p.model_version.task], "pk", None) == p.model_version_id,
        }
        for p in newest.values()
    ]
    html = render_to_string("ml/tce_panel.html", {"tce": tce, "rows": rows, "user": request.user}, request=request)
    return {"title": "Classifier scores", "html": html}
