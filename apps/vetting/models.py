"""Human vetting labels on TCEs; every label is kept, the newest per person counts."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from apps.catalog.models import TCE


class VettingLabel(models.Model):
    class Choice(models.TextChoices):
        PC = "PC", "planet candidate"
        EB = "EB", "eclipsing binary"
        FP = "FP", "other astrophysical false positive"
        V = "V", "stellar variability"
        IS = "IS", "instrumental systematic"
        J = "J", "junk"
        UNSURE = "?", "unsure"

    tce = models.ForeignKey(TCE, on_delete=models.CASCADE, related_name="vetting_labels")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="vetting_labels")
    label = models.CharField(max_length=2, choices=Choice.choices)
    comment = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.tce} → {self.label} by {self.user}"
