"""Targets (stars), their threshold-crossing events and their light curves."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models import F
from django.db.models.functions import Upper

from apps.core.models import TimeStampedModel


class Mission(models.TextChoices):
    KEPLER = "kepler", "Kepler"
    K2 = "k2", "K2"
    TESS = "tess", "TESS"
    GALEX = "galex", "GALEX"


#: Identifier prefixes users type, per mission ("KIC 11442793", "TIC 25155310", "EPIC ...").
ID_PREFIX = {Mission.KEPLER: "KIC", Mission.K2: "EPIC", Mission.TESS: "TIC", Mission.GALEX: "GALEX"}

#: Mission time systems: Kepler/K2 BKJD = BJD - 2454833, TESS BTJD = BJD - 2457000.
TIME_SYSTEM = {Mission.KEPLER: "BKJD", Mission.K2: "BKJD", Mission.TESS: "BTJD", Mission.GALEX: "GALEX"}
TIME_OFFSET_BJD = {"BKJD": 2454833.0, "BTJD": 2457000.0}


def clock_shift(source: str, target: str) -> float:
    """Days to add to a time on the ``source`` clock to read it on the ``target`` clock
    (BKJD -> BTJD: -2167); both must be BJD-based systems (``TIME_OFFSET_BJD``)."""
    return TIME_OFFSET_BJD[source] - TIME_OFFSET_BJD[target]


class Target(TimeStampedModel):
    """A star observed by a mission; stellar parameters carry the name of their source."""

    mission = models.CharField(max_length=8, choices=Mission.choices)
    identifier = models.CharField(max_length=32, help_text="KIC/EPIC/TIC number without prefix")
    name = models.CharField(max_length=64, blank=True, help_text="common name, e.g. Kepler-90")
    aliases = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    search_names = ArrayField(
        models.CharField(max_length=64),
        default=list,
        blank=True,
        help_text="lower-cased identifiers and names used by search",
    )
    ra = models.FloatField(null=True, blank=True, help_text="deg (J2000)")
    dec = models.FloatField(null=True, blank=True, help_text="deg (J2000)")
    magnitude = models.FloatField(null=True, blank=True, help_text="Kp or Tmag")
    teff = models.FloatField(null=True, blank=True, help_text="K")
    logg = models.FloatField(null=True, blank=True, help_text="log10(cm s^-2)")
    radius = models.FloatField(null=True, blank=True, help_text="R_sun")
    mass = models.FloatField(null=True, blank=True, help_text="M_sun")
    metallicity = models.FloatField(null=True, blank=True, help_text="[Fe/H] dex")
    stellar_source = models.CharField(max_length=64, blank=True, help_text="where the parameters came from")
    # Kept by database triggers on catalog_tce / catalog_lightcurve (migration 0002), so every write
    # path (COPY upserts, the ORM, cascades) keeps them exact and lists can sort by them with an index.
    n_tces = models.PositiveIntegerField(default=0, db_default=0, editable=False, help_text="TCEs of this target")
    n_lightcurves = models.PositiveIntegerField(default=0, db_default=0, editable=False,
                                                help_text="light curves of this target")
    # Declared here, not on Job: jobs is infrastructure and knows no target (docs/architecture.md).
    # The table is the one Job.targets created (migrations jobs 0004, catalog 0003 moved it in state only).
    jobs = models.ManyToManyField("jobs.Job", blank=True, related_name="targets", db_table="jobs_job_targets")

    class Meta:
        ordering = ["mission", "identifier"]
        constraints = [
            models.UniqueConstraint(fields=["mission", "identifier"], name="target_unique_per_mission"),
            models.CheckConstraint(
                condition=models.Q(ra__isnull=True) | models.Q(ra__gte=0, ra__lt=360),
                name="target_ra_range",
            ),
            models.CheckConstraint(
                condition=models.Q(dec__isnull=True) | models.Q(dec__gte=-90, dec__lte=90),
                name="target_dec_range",
            ),
        ]
        indexes = [
            GinIndex(fields=["search_names"], name="target_search_names_gin"),
            # name__icontains (UPPER(name) LIKE '%...%') through trigrams (pg_trgm)
            GinIndex(OpClass(Upper("name"), name="gin_trgm_ops"), name="target_name_trgm"),
            models.Index(fields=["magnitude"]),
            models.Index(fields=["teff"]),
            # Lists sort "missing last" in both directions (selectors._order): one index per direction.
            models.Index("identifier", name="target_identifier"),
            models.Index(F("magnitude").desc(nulls_last=True), "id", name="target_magnitude_desc"),
            models.Index(F("teff").desc(nulls_last=True), "id", name="target_teff_desc"),
            models.Index("name", "id", name="target_name_asc"),
            models.Index(F("name").desc(nulls_last=True), "id", name="target_name_desc"),
            models.Index("n_tces", "id", name="target_n_tces_asc"),
            models.Index(F("n_tces").desc(nulls_last=True), "id", name="target_n_tces_desc"),
        ]

    def __str__(self) -> str:
        return self.display_id if not self.name else f"{self.name} ({self.display_id})"

    @property
    def display_id(self) -> str:
        return f"{ID_PREFIX.get(self.mission, self.mission.upper())} {self.identifier}"

    @property
    def time_system(self) -> str:
        return TIME_SYSTEM.get(self.mission, "BJD")

    def refresh_search_names(self) -> None:
        names = {self.identifier.lower(), self.display_id.lower(), self.display_id.replace(" ", "").lower()}
        names.update(n.lower() for n in [self.name, *self.aliases] if n)
        self.search_names = sorted(names)


class Disposition(models.TextChoices):
    PC = "PC", "planet candidate"
    AFP = "AFP", "astrophysical false positive"
    NTP = "NTP", "non-transiting phenomenon"
    UNK = "UNK", "unknown"
    EB = "EB", "eclipsing binary"
    J = "J", "junk"
    V = "V", "variable star"
    IS = "IS", "instrumental systematic"
    O = "O", "other"  # noqa: E741 - the catalogue's own letter
    CP = "CP", "confirmed planet"
    KP = "KP", "known planet"
    FP = "FP", "false positive"
    APC = "APC", "ambiguous planet candidate"
    FA = "FA", "false alarm"


class TCESource(models.TextChoices):
    KEPLER_DR24 = "kepler_dr24", "Kepler Q1-Q17 DR24 TCE"
    KEPLER_DR25 = "kepler_dr25", "Kepler Q1-Q17 DR25 TCE"
    KEPLER_KOI = "kepler_koi", "Kepler cumulative KOI"
    TESS_TOI = "tess_toi", "TESS TOI"
    SEARCH = "search", "GAIA transit search"


class TCE(TimeStampedModel):
    """A threshold-crossing event: a periodic dip found by a pipeline or catalogue."""

    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="tces")
    mission = models.CharField(max_length=8, choices=Mission.choices)
    tce_number = models.PositiveIntegerField(help_text="planet number within the target")
    period_days = models.FloatField(help_text="d")
    epoch = models.FloatField(help_text="mid-transit time in the mission system (epoch_system)")
    epoch_system = models.CharField(max_length=8, default="BKJD", help_text="BKJD or BTJD")
    duration_hours = models.FloatField(help_text="h")
    depth_ppm = models.FloatField(null=True, blank=True, help_text="ppm")
    snr = models.FloatField(null=True, blank=True, help_text="model SNR")
    mes = models.FloatField(null=True, blank=True, help_text="multiple event statistic")
    source = models.CharField(max_length=16, choices=TCESource.choices)
    release = models.CharField(max_length=32, help_text="catalogue release, e.g. DR24, or search version")
    disposition = models.CharField(max_length=4, choices=Disposition.choices, default=Disposition.UNK)
    extra = models.JSONField(default=dict, blank=True, help_text="other catalogue columns")
    score = models.FloatField(
        null=True, blank=True, editable=False,
        help_text="the default triage model's newest calibrated probability (copied by apps.ml.services)",
    )

    class Meta:
        ordering = ["target_id", "tce_number"]
        verbose_name = "TCE"
        constraints = [
            models.UniqueConstraint(
                fields=["source", "release", "target", "tce_number"], name="tce_unique_per_source"
            ),
            models.CheckConstraint(condition=models.Q(period_days__gt=0), name="tce_period_positive"),
            models.CheckConstraint(condition=models.Q(duration_hours__gt=0), name="tce_duration_positive"),
        ]
        indexes = [
            models.Index(fields=["period_days"]),
            models.Index(fields=["snr"]),
            models.Index(fields=["depth_ppm"]),
            models.Index(fields=["disposition"]),
            # "targets with a TCE of this disposition" probes by target
            models.Index(fields=["target", "disposition"], name="tce_target_disposition"),
            models.Index("score", "id", name="tce_score_asc"),
            models.Index(F("score").desc(nulls_last=True), "id", name="tce_score_desc"),
            models.Index(F("period_days").desc(nulls_last=True), "id", name="tce_period_desc"),
            models.Index(F("snr").desc(nulls_last=True), "id", name="tce_snr_desc"),
            models.Index(F("depth_ppm").desc(nulls_last=True), "id", name="tce_depth_desc"),
        ]

    def __str__(self) -> str:
        return f"{self.target.display_id}.{self.tce_number:02d} ({self.get_source_display()})"

    @property
    def label(self) -> str:
        return f"{self.target.display_id}-{self.tce_number:02d}"


class Cadence(models.TextChoices):
    LONG = "long", "long (29.4 min)"
    SHORT = "short", "short (58.8 s)"
    TWO_MIN = "2min", "2-min"


class LightCurve(TimeStampedModel):
    """One quarter/sector of photometry; the series itself lives in a Parquet file under DATA_ROOT."""

    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="lightcurves")
    mission = models.CharField(max_length=8, choices=Mission.choices)
    quarter_or_sector = models.IntegerField(help_text="Kepler quarter, K2 campaign or TESS sector")
    cadence = models.CharField(max_length=8, choices=Cadence.choices)
    n_points = models.PositiveIntegerField()
    time_start = models.FloatField(help_text="first cadence, mission time system")
    time_end = models.FloatField(help_text="last cadence, mission time system")
    time_system = models.CharField(max_length=8, default="BKJD")
    parquet_path = models.CharField(max_length=512, help_text="relative to DATA_ROOT")
    source_filename = models.CharField(max_length=128)
    source_sha256 = models.CharField(max_length=64)
    provenance = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["target_id", "quarter_or_sector", "source_filename"]
        constraints = [
            models.UniqueConstraint(fields=["mission", "source_filename"], name="lightcurve_unique_file"),
        ]

    def __str__(self) -> str:
        word = "Q" if self.mission == Mission.KEPLER else ("C" if self.mission == Mission.K2 else "S")
        return f"{self.target.display_id} {word}{self.quarter_or_sector} {self.cadence}"

    @property
    def season_label(self) -> str:
        return {Mission.KEPLER: "quarter", Mission.K2: "campaign"}.get(self.mission, "sector")


class CatalogSummary(models.Model):
    """The dashboard's numbers (counts, disposition breakdown, period/duration histograms), computed at
    most every few seconds instead of on every view: at 500k TCEs they read the whole table.

    ``marks`` are the highest target, TCE and light-curve ids when computed: new rows make it stale at once.
    """

    name = models.CharField(max_length=16, primary_key=True)
    data = models.JSONField(default=dict)
    marks = models.JSONField(default=dict)
    computed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.computed_at:%Y-%m-%d %H:%M:%S}"
