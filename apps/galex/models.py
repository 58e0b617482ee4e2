"""GALEX eclipses; their products (raw6, photon lists, images, movies, tables) are versioned Artifacts."""

from __future__ import annotations

from django.db import models

from apps.core.models import TimeStampedModel


class EclipseStatus(models.TextChoices):
    REGISTERED = "registered", "registered (raw6 and aspect present)"
    REDUCING = "reducing", "reduction running"
    REDUCED = "reduced", "reduced"
    FAILED = "failed", "last reduction failed"
    IMPORTED = "imported", "read-only imported products"


class Eclipse(TimeStampedModel):
    """One GALEX eclipse (orbit) in one band, or a read-only set of imported gPhoton products."""

    number = models.PositiveIntegerField(null=True, blank=True, help_text="GALEX eclipse number")
    band = models.CharField(max_length=3, choices=[("NUV", "NUV"), ("FUV", "FUV")])
    label = models.CharField(max_length=100, blank=True, help_text="e.g. CR Dra visit 1 (gPhoton)")
    source = models.CharField(max_length=16, default="raw6", help_text="raw6, synthetic or gphoton")
    legs = models.PositiveIntegerField(default=0)
    plan_type = models.CharField(max_length=16, blank=True, help_text="e.g. MIS, AIS, DIS")
    status = models.CharField(
        max_length=10, choices=EclipseStatus.choices, default=EclipseStatus.REGISTERED
    )
    raw6_path = models.CharField(max_length=512, blank=True, help_text="relative to DATA_ROOT")
    aspect_path = models.CharField(
        max_length=512, blank=True, help_text="folder, relative to DATA_ROOT"
    )
    inputs = models.JSONField(default=dict, blank=True, help_text="input files and their sha256")
    warnings = models.JSONField(default=list, blank=True)
    summary = models.JSONField(default=dict, blank=True, help_text="last reduction's numbers")

    class Meta:
        ordering = ["number", "band"]
        constraints = [
            models.UniqueConstraint(
                fields=["number", "band", "source"],
                name="eclipse_unique_per_band",
                condition=models.Q(number__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        if self.label:
            return self.label
        return f"e{self.number:05d} {self.band}"

    @property
    def artifact_prefix(self) -> str:
        return f"galex/eclipse{self.pk}"


class EclipseTarget(models.Model):
    """A catalogue target inside an eclipse's field (within the detector radius of a leg's boresight)."""

    eclipse = models.ForeignKey(Eclipse, on_delete=models.CASCADE, related_name="target_links")
    target = models.ForeignKey("catalog.Target", on_delete=models.CASCADE, related_name="galex_links")
    leg = models.PositiveIntegerField(help_text="the leg whose boresight is nearest")
    separation_deg = models.FloatField(help_text="from that leg's boresight, deg")

    class Meta:
        ordering = ["eclipse", "separation_deg"]
        constraints = [
            models.UniqueConstraint(fields=["eclipse", "target"], name="eclipsetarget_unique"),
            models.CheckConstraint(condition=models.Q(separation_deg__gte=0), name="eclipsetarget_separation_nonnegative"),
        ]

    def __str__(self) -> str:
        return f"{self.target} in {self.eclipse} ({self.separation_deg:.3f} deg)"
