"""A small vetting world: TCEs, a default model with scores, and people of every role."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.jobs.models import Artifact
from apps.ml.models import ModelVersion, Prediction
from tests.conftest import make_user


def model_version(name: str = "triage_test", *, default: bool = True, task: str = "triage") -> ModelVersion:
    """A registered model row (no weights file: the queues only read its predictions)."""
    weights = Artifact.objects.create(kind="model_weights", key=f"model/{name}", version=1, path=f"models/{name}.pt",
                                      sha256="0" * 64)
    return ModelVersion.objects.create(name=name, task=task, preset="yu2019_triage", weights_sha256=name.ljust(64, "0"),
                                       weights=weights, is_default=default)


def scored(tce, version: ModelVersion, probability: float, *, minutes_ago: float = 0) -> Prediction:  # noqa: ANN001
    return Prediction.objects.create(tce=tce, model_version=version, raw_score=probability, probability=probability,
                                     views_version=1, created_at=timezone.now() - timedelta(minutes=minutes_ago))


@pytest.fixture
def vetters(django_user_model):
    """Three more vetters besides the conftest's vera."""
    return [make_user(django_user_model, name, "vetter") for name in ("vbob", "vcat", "vdan")]
