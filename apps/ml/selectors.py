"""Reads for models and predictions."""

from __future__ import annotations

from django.db.models import OuterRef, QuerySet, Subquery

from apps.core.errors import NotFound
from apps.ml.models import ModelVersion, Prediction


def modelversion_list() -> QuerySet[ModelVersion]:
    return ModelVersion.objects.select_related("weights", "created_by").order_by("task", "-is_default", "-created_at")


def modelversion_get(*, version_id: int) -> ModelVersion:
    try:
        return ModelVersion.objects.select_related("weights").get(pk=version_id)
    except ModelVersion.DoesNotExist as exc:
        raise NotFound(f"model version {version_id} does not exist") from exc


def default_version(task: str = "triage") -> ModelVersion | None:
    return ModelVersion.objects.filter(task=task, is_default=True).first()


def latest_score_subquery(version: ModelVersion | None):  # noqa: ANN201 - a Subquery
    """Newest calibrated probability of each TCE (OuterRef pk) by ``version``."""
    return Subquery(
        Prediction.objects.filter(tce=OuterRef("pk"), model_version=version)
        .order_by("-created_at")
        .values("probability")[:1]
    )


def predictions_for_tce(*, tce_id: int) -> QuerySet[Prediction]:
    return Prediction.objects.filter(tce_id=tce_id).select_related("model_version", "job").order_by("-created_at")


#: MES bins of the injection-recovery curve on the model card.
MES_EDGES = (0, 4, 6, 8, 10, 12, 15, 20, 30, 50, 100)


def injection_recovery(*, version: ModelVersion) -> dict | None:
    """Binned recall (search + this model) against injected MES, from ``make bench``'s run.

    Shown only when the run was made with exactly these weights (sha256 recorded by the benchmark).
    """
    import json

    import numpy as np
    from django.conf import settings

    from apps.ml.science.injection import christiansen_efficiency

    path = settings.BASE_DIR / "docs" / "ml" / "injection_recovery.json"
    try:
        result = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if result.get("model", {}).get("weights_sha256") != version.weights_sha256:
        return None
    rows = [r for r in result.get("injections", []) if r.get("kind", "planet") == "planet" and r.get("mes") is not None]
    mes, recall, counts = [], [], []
    for low, high in zip(MES_EDGES[:-1], MES_EDGES[1:], strict=True):
        inside = [r for r in rows if low <= r["mes"] < high]
        if inside:
            mes.append((low + high) / 2)
            recall.append(sum(bool(r.get("recovered")) for r in inside) / len(inside))
            counts.append(len(inside))
    if not mes:
        return None
    return {"mes": mes, "recall": recall, "n": counts, "kepler": christiansen_efficiency(np.asarray(mes)).tolist(),
            "false_positives": result.get("false_positives", {})}
