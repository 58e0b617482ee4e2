"""API schemas for processing requests and TCE views."""

from typing import Any

from ninja import Field, Schema


class ProcessIn(Schema):
    presets: list[str] = Field(default_factory=lambda: ["gaia", "yu2019"])


class SearchIn(Schema):
    period_min: float = Field(0.5, description="d")
    period_max: float | None = Field(None, description="d; default half the baseline")
    n_periods: int | None = Field(None, description="log-spaced periods instead of the Ofir grid")
    max_signals: int = 3
    preset: str = Field("gaia", description="search preset (gaia: biweight + BLS; tls: TLS engine)")
    same_star: bool = Field(
        False, description="also search the same star's light curves from other missions (within 3″) on one clock"
    )



class ViewsOut(Schema):
    tce_id: int
    preset: str
    version: int
    views: dict[str, list[float]]
    diagnostics: dict[str, Any]


class SeriesOut(Schema):
    lightcurve_id: int
    time_system: str
    t_min: float | None = None
    t_max: float | None = None
    n_points_total: int
    downsampled: bool
    time: list[float]
    flux: list[float | None]
    flux_err: list[float | None]
    quality: list[int]
    flagged: list[bool]
