"""The download ledger (one row per archive file) and the cached TESS sector file lists."""

from __future__ import annotations

from django.db import models

from apps.catalog.models import Cadence, LightCurve, Mission, Target
from apps.core.models import TimeStampedModel
from apps.jobs.models import Job


class FileState(models.TextChoices):
    PENDING = "pending", "pending"
    DOWNLOADING = "downloading", "downloading"
    VERIFIED = "verified", "verified (on disk, checksums good)"
    INGESTED = "ingested", "ingested (LightCurve row and Parquet series)"
    NOT_OBSERVED = "not_observed", "not observed (404 for a planned quarter/sector)"
    FAILED = "failed", "failed (retry budget spent)"
    REJECTED = "rejected", "rejected (verified bytes that are not a usable light curve)"


#: Files in these states need no fetch when a job runs again.
SETTLED_STATES = (
    FileState.VERIFIED,
    FileState.INGESTED,
    FileState.NOT_OBSERVED,
    FileState.REJECTED,
)


class ArchiveFile(TimeStampedModel):
    """One archive file and everything known about fetching it: the resume state of downloads.

    Rows are unique per (mission, filename), whatever base URL served them, so a second job asking
    for a verified file does not fetch it again, and a killed job resumes from these rows.
    """

    mission = models.CharField(max_length=8, choices=Mission.choices)
    filename = models.CharField(max_length=128)
    uri = models.CharField(max_length=300, help_text="MAST data URI, e.g. mast:Kepler/url/...")
    url = models.URLField(max_length=500, help_text="the URL last used to fetch it")
    target = models.ForeignKey(
        Target, null=True, blank=True, on_delete=models.SET_NULL, related_name="archive_files"
    )
    quarter_or_sector = models.IntegerField(null=True, blank=True)
    cadence = models.CharField(max_length=8, choices=Cadence.choices, blank=True)
    state = models.CharField(max_length=16, choices=FileState.choices, default=FileState.PENDING)
    local_path = models.CharField(max_length=512, help_text="relative to DATA_ROOT")
    bytes = models.BigIntegerField(default=0, help_text="size on disk once verified")
    sha256 = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveIntegerField(default=0, help_text="requests made, over all runs")
    last_error = models.TextField(blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    ingested_at = models.DateTimeField(null=True, blank=True)
    lightcurve = models.ForeignKey(
        LightCurve, null=True, blank=True, on_delete=models.SET_NULL, related_name="archive_files"
    )
    jobs = models.ManyToManyField(Job, blank=True, related_name="archive_files")

    class Meta:
        ordering = ["mission", "filename"]
        constraints = [
            models.UniqueConstraint(
                fields=["mission", "filename"], name="archivefile_unique_per_mission"
            ),
            models.CheckConstraint(
                condition=models.Q(bytes__gte=0), name="archivefile_bytes_nonnegative"
            ),
        ]
        indexes = [models.Index(fields=["state"]), models.Index(fields=["target", "state"])]

    def __str__(self) -> str:
        return f"{self.filename} ({self.state})"


class TessSector(models.Model):
    """A TESS sector whose bulk-download script was fetched and parsed."""

    sector = models.PositiveIntegerField(primary_key=True)
    script_url = models.URLField(max_length=500)
    script_sha256 = models.CharField(max_length=64, blank=True)
    n_files = models.PositiveIntegerField(default=0)
    available = models.BooleanField(default=True, help_text="False when the archive had no script")
    fetched_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sector"]

    def __str__(self) -> str:
        return f"TESS sector {self.sector} ({self.n_files} light curves)"


class TessSectorFile(models.Model):
    """One light-curve file listed in a sector's download script: maps TIC -> file names."""

    sector = models.ForeignKey(TessSector, on_delete=models.CASCADE, related_name="files")
    tic_id = models.BigIntegerField(db_index=True)
    filename = models.CharField(max_length=128)

    class Meta:
        ordering = ["sector_id", "tic_id"]
        constraints = [
            models.UniqueConstraint(fields=["sector", "filename"], name="tesssectorfile_unique"),
        ]

    def __str__(self) -> str:
        return self.filename
