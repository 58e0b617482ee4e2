"""Access: the permissions roles are made of, and per-user API tokens (stored hashed)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Access(models.Model):
    """Holds no rows: its Meta carries the site's permissions, which the role groups are made of.

    Django permissions belong to a model; keeping them on one place-holder model lets roles be plain
    ``auth.Group`` rows that the admin shows and ``user.has_perm("accounts.<codename>")`` checks.
    """

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("view_site", "Read pages and the API when public reading is off"),
            ("label", "Label TCEs (vetting)"),
            ("adjudicate", "Record a final disposition on conflicting labels"),
            ("export_labels", "Export label snapshots"),
            ("run_jobs", "Queue processing, search, scoring, reductions and downloads of given targets"),
            ("manage_jobs", "Cancel and retry any job; see every job's details"),
            ("administer", "Train and change default models, catalogue-wide downloads, demo loads, users"),
        ]

    def __str__(self) -> str:
        return "access permissions"


class ApiTokenQuerySet(models.QuerySet):
    def usable(self) -> ApiTokenQuerySet:
        now = timezone.now()
        return self.filter(revoked_at__isnull=True, user__is_active=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ApiToken(models.Model):
    """A named bearer token of one user. Only its sha256 is stored; its prefix identifies it later."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, db_index=True, help_text="first characters, shown in lists")
    digest = models.CharField(max_length=64, unique=True, help_text="sha256 of the whole token")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…) of {self.user}"

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and not self.is_expired
