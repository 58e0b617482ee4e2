"""Jobs (the source of truth for background work) and the versioned artifacts they produce.

Jobs is infrastructure and imports no domain app: the catalogue declares the job ↔ target link
(``Target.jobs``, reverse name ``Job.targets``), and an artifact's subject is the model named by
``settings.GAIA_JOB_SUBJECT_MODEL``, the way apps point at ``AUTH_USER_MODEL``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class JobStatus(models.TextChoices):
    QUEUED = "queued", "queued"
    RUNNING = "running", "running"
    SUCCEEDED = "succeeded", "succeeded"
    FAILED = "failed", "failed"
    CANCELLED = "cancelled", "cancelled"


FINISHED_STATUSES = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


class Job(models.Model):
    """One unit of background work; its row is the truth about status, progress and provenance."""

    kind = models.CharField(max_length=32, db_index=True)
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED, db_index=True
    )
    stage = models.CharField(max_length=200, blank=True)
    progress_done = models.BigIntegerField(default=0)
    progress_total = models.BigIntegerField(null=True, blank=True)
    progress_unit = models.CharField(max_length=16, default="steps")
    eta_seconds = models.FloatField(null=True, blank=True)
    cancel_requested = models.BooleanField(default=False)
    queue_name = models.CharField(max_length=32, blank=True)
    message_id = models.CharField(max_length=64, blank=True, db_index=True)
    dispatched_at = models.DateTimeField(
        null=True, blank=True, help_text="when a message was last handed to the broker (the outbox)"
    )
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    timings = models.JSONField(default=dict, blank=True, help_text="seconds per stage")
    error_summary = models.TextField(blank=True)
    error_detail = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True, help_text="the job's report")
    provenance = models.JSONField(default=dict, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children",
        help_text="the job this one is a batch of (apps/jobs/fanout.py)",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(progress_done__gte=0), name="job_progress_nonnegative"),
        ]

    def __str__(self) -> str:
        return f"Job {self.pk} {self.kind} ({self.status})"

    @property
    def dispatch_pending(self) -> bool:
        """Queued but no message reached the broker yet (the reconciler will send one)."""
        return self.status == JobStatus.QUEUED and self.dispatched_at is None

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    @property
    def fraction(self) -> float | None:
        if not self.progress_total:
            return None
        return min(1.0, self.progress_done / self.progress_total)

    @property
    def duration_seconds(self) -> float | None:
        if not self.started_at:
            return None
        end = self.finished_at or timezone.now()
        return (end - self.started_at).total_seconds()


class Artifact(models.Model):
    """A product file written by a job. Reprocessing adds a new version; nothing is overwritten."""

    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="artifacts")
    kind = models.CharField(max_length=32, db_index=True, help_text="e.g. views, flattened, image, movie")
    key = models.CharField(max_length=200, db_index=True, help_text="what it is about, e.g. tce/12/gaia")
    version = models.PositiveIntegerField()
    path = models.CharField(max_length=512, help_text="relative to DATA_ROOT")
    sha256 = models.CharField(max_length=64)
    size_bytes = models.BigIntegerField(default=0)
    target = models.ForeignKey(
        settings.GAIA_JOB_SUBJECT_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="artifacts"
    )
    meta = models.JSONField(default=dict, blank=True)
    provenance = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["key", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["key", "version"], name="artifact_unique_version"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.key} v{self.version}"
