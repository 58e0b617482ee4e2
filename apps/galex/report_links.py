"""Links from job reports (``eclipse_id``) to eclipse pages (apps/jobs/report.py)."""

from __future__ import annotations

from django.urls import reverse

from apps.galex.models import Eclipse


def eclipse_links(ids: list[int]) -> dict[int, tuple[str, str]]:
    return {e.pk: (str(e), reverse("galex-eclipse-detail", args=[e.pk])) for e in Eclipse.objects.filter(pk__in=ids)}
