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
