"""Parameters of the ``process_target`` and ``search_target`` jobs, with their bounds.

The search grid is ``n_periods`` log-spaced trial periods (``science.search.period_grid``), each
scanned at every trial duration, so a request costs ``n_periods x len(DEFAULT_DURATIONS_HOURS)``
period-duration trials per BLS pass; that count is capped at ``MAX_SEARCH_TRIALS`` and checked
before anything is allocated. The period range must lie inside the target's data span (checked
against its light curves by ``search_params_validate``).
"""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from apps.core.bounds import DbId, FiniteFloat, JobParams, Text
from apps.lightcurves.science.detection import SEARCH_PRESETS
from apps.lightcurves.science.search import DEFAULT_DURATIONS_HOURS
from apps.lightcurves.science.views import PRESETS

#: Presets computed by process_target unless asked otherwise: ours, and the one the TESS CNN reads.
DEFAULT_PRESETS = ("gaia", "yu2019")
MAX_PRESETS = 3
#: Period-duration trials one BLS pass may scan (an explicit ``n_periods`` log grid).
MAX_SEARCH_TRIALS = 1_000_000
#: Trial periods of the default Ofir grid (its size follows the data span and the star's
#: density: ~160,000 for the whole Kepler mission of a Sun-like star), checked against the data.
MAX_OFIR_PERIODS = 500_000
#: The shortest period must exceed the longest trial duration (a box must fit in a period), d.
MIN_PERIOD_DAYS = max(DEFAULT_DURATIONS_HOURS) / 24.0


def search_trial_count(n_periods: int) -> int:
    """Period-duration trials of one BLS pass over the grid of ``n_periods`` periods."""
    return n_periods * len(DEFAULT_DURATIONS_HOURS)


class ProcessParams(JobParams):
    target_id: DbId
    presets: list[Text] = Field(
        default_factory=lambda: list(DEFAULT_PRESETS), min_length=1, max_length=MAX_PRESETS
    )

    @field_validator("presets", mode="before")
    @classmethod
    def _default(cls, presets: object) -> object:
        return list(DEFAULT_PRESETS) if presets is None or presets == [] else presets

    @field_validator("presets")
    @classmethod
    def _known(cls, presets: list[str]) -> list[str]:
        unknown = [p for p in presets if p not in PRESETS]
        if unknown:
            raise ValueError(f"unknown preset(s) {unknown}; choose from {sorted(PRESETS)}")
        if len(set(presets)) != len(presets):
            raise ValueError("each preset at most once")
        return presets


class SearchParams(JobParams):
    target_id: DbId
    period_min: FiniteFloat = Field(0.5, gt=MIN_PERIOD_DAYS, description="d")
    period_max: FiniteFloat | None = Field(
        None, gt=MIN_PERIOD_DAYS, description="d; default half the data span"
    )
    n_periods: int | None = Field(
        None, ge=100, description="log-spaced trial periods instead of the Ofir grid (default)"
    )
    max_signals: int = Field(3, ge=1, le=10)
    preset: Text = Field("gaia", description="search preset: detrending, engine, thresholds")
    same_star: bool = Field(
        False, description="also search the same star's light curves from the other missions (within 3″), on one clock"
    )

    @field_validator("preset")
    @classmethod
    def _known_search_preset(cls, preset: str) -> str:
        if preset not in SEARCH_PRESETS:
            raise ValueError(f"unknown search preset {preset!r}; choose from {sorted(SEARCH_PRESETS)}")
        return preset

    @field_validator("n_periods", mode="before")
    @classmethod
    def _blank_periods(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("period_max", mode="before")
    @classmethod
    def _blank(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def _grid(self) -> SearchParams:
        if self.period_max is not None and self.period_max <= self.period_min:
            raise ValueError("need period_min < period_max")
        trials = search_trial_count(self.n_periods) if self.n_periods is not None else 0
        if trials > MAX_SEARCH_TRIALS:
            raise ValueError(
                f"{self.n_periods} periods x {len(DEFAULT_DURATIONS_HOURS)} durations = {trials} trials; "
                f"at most {MAX_SEARCH_TRIALS} (n_periods <= {MAX_SEARCH_TRIALS // len(DEFAULT_DURATIONS_HOURS)})"
            )
        return self
