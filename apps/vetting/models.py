"""Vetting: people's labels on TCEs (every label kept, the newest per person counts), claims on queue
items, adjudications, the denormalised per-TCE state the queues read, and catalogue labels kept apart."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from apps.catalog.models import TCE


class LabelChoice(models.TextChoices):
    # The order is the page's key binding (1-8): keep it.
    PC = "PC", "planet candidate"
    EB = "EB", "eclipsing binary"
    NEB = "NEB", "background/nearby eclipsing binary (centroid offset)"
    FP = "FP", "other astrophysical false positive"
    V = "V", "stellar variability"
    IS = "IS", "instrumental systematic"
    J = "J", "junk"
    UNSURE = "?", "unsure"


class ConfidenceChoice(models.TextChoices):
    LOW = "low", "low"
    MEDIUM = "medium", "medium"
    HIGH = "high", "high"


#: Label codes in the page's key order (1-8).
LABEL_ORDER: tuple[str, ...] = tuple(LabelChoice.values)
#: Labels that decide something; "?" (unsure) counts as having looked, not as a vote.
DECISIVE_LABELS: tuple[str, ...] = tuple(code for code in LABEL_ORDER if code != LabelChoice.UNSURE)


class VettingLabel(models.Model):
    Choice = LabelChoice
    Confidence = ConfidenceChoice

    tce = models.ForeignKey(TCE, on_delete=models.CASCADE, related_name="vetting_labels")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="vetting_labels")
    label = models.CharField(max_length=4, choices=LabelChoice.choices)
    confidence = models.CharField(max_length=6, choices=ConfidenceChoice.choices, default=ConfidenceChoice.MEDIUM)
    comment = models.TextField(blank=True, max_length=2000)
    flags = models.JSONField(default=list, blank=True, help_text="subset of FLAG_CHOICES values")
    # A proposed ephemeris (same names and units as TCE): d, mission time system of the TCE, h.
    period_days = models.FloatField(null=True, blank=True, help_text="proposed period, d")
    epoch = models.FloatField(null=True, blank=True, help_text="proposed mid-transit time (TCE's epoch_system)")
    duration_hours = models.FloatField(null=True, blank=True, help_text="proposed duration, h")
    views_version = models.PositiveIntegerField(null=True, blank=True, help_text="views artifact version labelled on")
    views_preset = models.CharField(max_length=16, blank=True, help_text="preset of that views artifact")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(label__in=LABEL_ORDER), name="vettinglabel_known_label"),
            models.CheckConstraint(
                condition=models.Q(confidence__in=ConfidenceChoice.values), name="vettinglabel_known_confidence"
            ),
            models.CheckConstraint(
                condition=models.Q(period_days__isnull=True) | models.Q(period_days__gt=0), name="vettinglabel_period_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(duration_hours__isnull=True) | models.Q(duration_hours__gt=0),
                name="vettinglabel_duration_positive",
            ),
        ]
        indexes = [
            # "has this person labelled this TCE" (queues) and each person's newest label per TCE
            models.Index(fields=["tce", "user", "-created_at"], name="vettinglabel_tce_user"),
            # the "mine" history and the stats per vetter
            models.Index(fields=["user", "-created_at"], name="vettinglabel_user_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.tce} → {self.label} by {self.user}"


#: Diagnostic flags a vetter may tick, in display order: (value, text).
FLAG_CHOICES: tuple[tuple[str, str], ...] = (
    ("odd_even", "odd/even depth difference"),
    ("secondary", "secondary eclipse"),
    ("centroid_offset", "centroid offset in transit"),
    ("v_shape", "V-shaped transit"),
    ("single_event", "dominated by a single event"),
    ("data_gaps", "transits fall in data gaps"),
)
FLAG_VALUES: tuple[str, ...] = tuple(value for value, _text in FLAG_CHOICES)


class VettingClaim(models.Model):
    """A queue handed this TCE to this person until ``expires_at``; it holds one of the TCE's label slots.

    ``released_at`` is set when the person moves on (labelled, or asked for the next one): the slot is
    free again, but the row still keeps the TCE out of that person's queues until it expires (a skip).
    """

    tce = models.ForeignKey(TCE, on_delete=models.CASCADE, related_name="vetting_claims")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="vetting_claims")
    queue = models.CharField(max_length=16)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["tce", "expires_at"], name="vettingclaim_tce_live"),
            models.Index(fields=["user", "expires_at"], name="vettingclaim_user_live"),
        ]

    def __str__(self) -> str:
        return f"{self.tce_id} claimed by {self.user_id} until {self.expires_at:%H:%M}"


class Adjudication(models.Model):
    """An adjudicator's final word on a TCE; the newest one counts."""

    tce = models.ForeignKey(TCE, on_delete=models.CASCADE, related_name="adjudications")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="adjudications")
    label = models.CharField(max_length=4, choices=LabelChoice.choices)
    reason = models.TextField(max_length=2000)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(label__in=list(DECISIVE_LABELS)), name="adjudication_decisive_label"),
        ]
        indexes = [models.Index(fields=["tce", "-created_at"], name="adjudication_tce_newest")]

    def __str__(self) -> str:
        return f"{self.tce_id} adjudicated {self.label} by {self.user_id}"


class VettingStatus(models.TextChoices):
    NEEDS_LABELS = "needs_labels", "needs labels"
    AGREED = "agreed", "agreed"
    CONFLICT = "conflict", "conflict"
    ADJUDICATED = "adjudicated", "adjudicated"


class VettingState(models.Model):
    """A TCE's row in the queues: where it stands, and the columns the queues walk.

    ``status``, ``n_labels``, ``n_people`` and ``label`` are rewritten in the same transaction as each
    label or adjudication (``label`` is the final label: the adjudicated one, else the agreed one, else
    empty). ``snr`` and the default model's newest score (``score_version``, ``probability``,
    ``uncertainty`` = |p - 0.5|, ``disagreement`` = |p - 0.5| where the model and the catalogue
    disposition point opposite ways) are copied in by ``apps.vetting.services.queue_rows_sync``.
    The queue indexes are partial (open TCEs only), so a walk never passes decided TCEs.
    """

    tce = models.OneToOneField(TCE, on_delete=models.CASCADE, primary_key=True, related_name="vetting_state")
    status = models.CharField(max_length=12, choices=VettingStatus.choices, default=VettingStatus.NEEDS_LABELS)
    n_labels = models.PositiveIntegerField(default=0, help_text="people whose newest label is decisive (not '?')")
    n_people = models.PositiveIntegerField(default=0, help_text="people who labelled, '?' included")
    label = models.CharField(max_length=4, blank=True, choices=LabelChoice.choices)
    updated_at = models.DateTimeField(default=timezone.now)
    snr = models.FloatField(null=True, blank=True, help_text="copy of TCE.snr")
    score_version_id = models.BigIntegerField(null=True, blank=True, help_text="model version of the score columns")
    probability = models.FloatField(null=True, blank=True, help_text="that model's newest calibrated probability")
    uncertainty = models.FloatField(null=True, blank=True, help_text="|probability - 0.5|")
    disagreement = models.FloatField(null=True, blank=True, help_text="|probability - 0.5| when the catalogue says otherwise")

    class Meta:
        indexes = [
            models.Index(fields=["status", "updated_at"], name="vettingstate_status_age"),
            models.Index(fields=["score_version_id", "uncertainty", "tce"], name="vettingstate_uncertain",
                         condition=models.Q(status=VettingStatus.NEEDS_LABELS)),
            models.Index(fields=["score_version_id", "disagreement", "tce"], name="vettingstate_disagree",
                         condition=models.Q(status=VettingStatus.NEEDS_LABELS, disagreement__isnull=False)),
            models.Index(models.F("snr").desc(nulls_last=True), models.F("tce"), name="vettingstate_unlabelled",
                         condition=models.Q(status=VettingStatus.NEEDS_LABELS)),
        ]

    def __str__(self) -> str:
        return f"{self.tce_id}: {self.status} {self.label}".strip()


class VettingQueueSync(models.Model):
    """How far ``queue_rows_sync`` has copied TCEs and scores into VettingState (one row per kind)."""

    name = models.CharField(max_length=16, primary_key=True, help_text="tces or scores")
    model_version_id = models.BigIntegerField(null=True, blank=True, help_text="scores: the model copied")
    last_id = models.BigIntegerField(default=0, help_text="highest TCE / prediction id seen")
    tail = models.BigIntegerField(default=0, help_text="rows seen with ids in (last_id - MARGIN, last_id]")
    synced_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.name} up to {self.last_id}"


class CatalogLabelSource(models.TextChoices):
    DR24 = "dr24", "Kepler DR24 autovetter training set (av_training_set)"
    DR25 = "dr25", "Kepler DR25 robovetter"
    TOI = "toi", "TESS TOI (TFOPWG disposition)"


class CatalogLabel(models.Model):
    """A catalogue's disposition of a TCE in our label codes; a named source, never mixed with people's."""

    tce = models.ForeignKey(TCE, on_delete=models.CASCADE, related_name="catalog_labels")
    source = models.CharField(max_length=8, choices=CatalogLabelSource.choices)
    label = models.CharField(max_length=4, choices=LabelChoice.choices)
    original = models.CharField(max_length=64, help_text="the catalogue's own value, e.g. AFP or FP (SS)")
    imported_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["tce_id", "source"]
        constraints = [models.UniqueConstraint(fields=["tce", "source"], name="cataloglabel_once_per_source")]
        indexes = [models.Index(fields=["source", "tce"], name="cataloglabel_source_tce")]

    def __str__(self) -> str:
        return f"{self.tce_id} {self.source}: {self.label} ({self.original})"
