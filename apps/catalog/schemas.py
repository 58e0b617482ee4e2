"""API schemas for targets, TCEs and light curves (explicit fields, units in descriptions)."""

from __future__ import annotations

from ninja import Field, Schema

from apps.core.bounds import DbId, FiniteFloat, Text


class TargetOut(Schema):
    id: int
    mission: str
    identifier: str
    display_id: str
    name: str
    aliases: list[str]
    ra: float | None = Field(None, description="deg")
    dec: float | None = Field(None, description="deg")
    magnitude: float | None
    teff: float | None = Field(None, description="K")
    logg: float | None
    radius: float | None = Field(None, description="R_sun")
    mass: float | None = Field(None, description="M_sun")
    metallicity: float | None = Field(None, description="[Fe/H]")
    stellar_source: str
    n_tces: int | None = None
    n_lightcurves: int | None = None


class TargetFilters(Schema):
    q: Text | None = Field(None, description='identifier or name, e.g. "KIC 11442793", "Kepler-90"')
    mission: Text | None = None
    mag_min: FiniteFloat | None = None
    mag_max: FiniteFloat | None = None
    teff_min: FiniteFloat | None = None
    teff_max: FiniteFloat | None = None
    has_tces: bool | None = None
    has_lightcurves: bool | None = None
    disposition: Text | None = None
    sort: Text | None = Field(None, description="identifier, name, magnitude, teff, tces; prefix - for descending")


class TCEOut(Schema):
    id: int
    target_id: int
    target_display_id: str = Field(..., alias="target.display_id")
    mission: str
    tce_number: int
    period_days: float
    epoch: float
    epoch_system: str
    duration_hours: float
    depth_ppm: float | None
    snr: float | None
    mes: float | None
    source: str
    release: str
    disposition: str
    score: float | None = Field(
        None, description="calibrated probability of the default triage model of the TCE's mission "
        "(which model, and its training-domain warning: /api/ml/tces/{id}/score)",
    )


class TCEFilters(Schema):
    target_id: DbId | None = None
    mission: Text | None = None
    source: Text | None = None
    disposition: Text | None = None
    period_min: FiniteFloat | None = Field(None, description="d")
    period_max: FiniteFloat | None = Field(None, description="d")
    snr_min: FiniteFloat | None = None
    score_min: FiniteFloat | None = Field(None, ge=0, le=1)
    score_max: FiniteFloat | None = Field(None, ge=0, le=1)
    q: Text | None = None
    sort: Text | None = Field(None, description="score, period, snr, depth, duration, target, epoch; - for descending")


class LightCurveOut(Schema):
    id: int
    target_id: int
    mission: str
    quarter_or_sector: int
    cadence: str
    n_points: int
    time_start: float
    time_end: float
    time_system: str
    source_filename: str
    source_sha256: str
