"""Links from job reports (``target_id``, ``tce_ids``, ...) to target and TCE pages (apps/jobs/report.py)."""

from __future__ import annotations

from django.urls import reverse

from apps.catalog.models import TCE, Target


def target_links(ids: list[int]) -> dict[int, tuple[str, str]]:
    return {t.pk: (str(t), reverse("target-detail", args=[t.pk])) for t in Target.objects.filter(pk__in=ids)}


def tce_links(ids: list[int]) -> dict[int, tuple[str, str]]:
    tces = TCE.objects.filter(pk__in=ids).select_related("target")
    return {t.pk: (f"{t.label} ({t.get_source_display()})", reverse("tce-detail", args=[t.pk])) for t in tces}
