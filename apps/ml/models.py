"""Registered classifier versions and the scores they gave to TCEs."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from apps.catalog.models import TCE
from apps.jobs.models import Artifact, Job


class ModelVersion(models.Model):
    """A trained CNN pinned by the sha256 of its weights; its manifest holds config, data and metrics."""

    name = models.CharField(max_length=100)
    task = models.CharField(max_length=16, help_text="triage (PC+EB vs rest) or vetting (PC vs rest)")
    preset = models.CharField(max_length=32, help_text="model architecture preset")
    view_preset = models.CharField(max_length=16, default="yu2019", help_text="light-curve views it reads")
    weights_sha256 = models.CharField(max_length=64)
    weights = models.ForeignKey(Artifact, on_delete=models.PROTECT, related_name="model_versions")
    manifest = models.JSONField(default=dict)
    metrics = models.JSONField(default=dict, blank=True)
    temperature = models.FloatField(default=1.0, help_text="calibration temperature (fitted on validation)")
    is_default = models.BooleanField(default=False, help_text="used when no model is named")
    created_by = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="model_versions")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["name", "weights_sha256"], name="modelversion_unique_weights"),
            models.CheckConstraint(condition=models.Q(temperature__gt=0), name="modelversion_temperature_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.weights_sha256[:10]})"


class Prediction(models.Model):
    """One score of one TCE by one model version; re-scoring adds rows, nothing is overwritten."""

    tce = models.ForeignKey(TCE, on_delete=models.CASCADE, related_name="predictions")
    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="predictions")
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="predictions")
    raw_score = models.FloatField(help_text="sigmoid of the logit")
    probability = models.FloatField(help_text="temperature-calibrated probability")
    views_version = models.PositiveIntegerField(help_text="version of the views artifact scored")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["tce", "model_version", "job"], name="prediction_once_per_job"),
            models.CheckConstraint(
                condition=models.Q(probability__gte=0, probability__lte=1), name="prediction_probability_range"
            ),
        ]
        indexes = [models.Index(fields=["tce", "model_version", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.tce_id} scored {self.probability:.3f} by {self.model_version_id}"
