"""Input/output schemas of the archive API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Schema
from pydantic import Field


class DownloadIn(Schema):
    """A download request: identifiers of one mission, or the hosts of a catalogue."""

    mission: Literal["kepler", "k2", "tess"] = "kepler"
    identifiers: list[str] = Field(
        default_factory=list, max_length=10000, description="KIC/EPIC/TIC numbers"
    )
    target_ids: list[int] = Field(
        default_factory=list, max_length=10000, description="Target primary keys"
    )
    catalog: Literal["dr24", "dr25", "koi", "toi"] | None = None
    limit: int | None = Field(default=None, ge=1, le=300000, description="catalogue hosts to take")
    cadence: Literal["long", "short"] = "long"
    seasons: list[int] | None = Field(default=None, description="quarters, campaigns or sectors")
    ingest: bool = True


class JobQueuedOut(Schema):
    job_id: int
    kind: str
    status: str
    queue: str


class LedgerEntryOut(Schema):
    id: int
    mission: str
    filename: str
    url: str
    state: str
    quarter_or_sector: int | None
    bytes: int
    sha256: str
    attempts: int
    last_error: str
    lightcurve_id: int | None
    updated_at: datetime


class LedgerSummaryOut(Schema):
    job_id: int
    status: str
    files: int
    bytes: int
    counts: dict[str, int]


class TablesIn(Schema):
    names: list[Literal["dr24_tce", "dr25_tce", "koi", "stellar", "toi"]] = Field(
        default_factory=lambda: ["dr24_tce", "dr25_tce", "koi"], min_length=1
    )
    source: Literal["tap", "local"] = "tap"
    limit: int | None = Field(default=None, ge=1)
