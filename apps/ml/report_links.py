"""Links from job reports (``model_version``) to model cards (apps/jobs/report.py)."""

from __future__ import annotations

from django.urls import reverse

from apps.ml.models import ModelVersion


def model_links(ids: list[int]) -> dict[int, tuple[str, str]]:
    return {m.pk: (str(m), reverse("ml-model-detail", args=[m.pk])) for m in ModelVersion.objects.filter(pk__in=ids)}
