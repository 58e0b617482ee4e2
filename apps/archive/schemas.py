"""Input/output schemas of the archive API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Schema
from pydantic import Field

from apps.archive.params import (
    MAX_CATALOG_HOSTS,
    MAX_IDENTIFIERS,
    MAX_SEASONS,
    MAX_TABLE_ROWS,
    Season,
)
from apps.core.bounds import DbId, Text


class DownloadIn(Schema):
    """A download request: identifiers of one mission, or the hosts of a catalogue."""

    mission: Literal["kepler", "k2", "tess"] = "kepler"
    identifiers: list[Text] = Field(
        default_factory=list, max_length=MAX_IDENTIFIERS, description="KIC/EPIC/TIC numbers"
    )
    target_ids: list[DbId] = Field(
        default_factory=list, max_length=MAX_IDENTIFIERS, description="Target primary keys"
    )
    catalog: Literal["dr24", "dr25", "koi", "toi"] | None = None
    limit: int | None = Field(
        default=None, ge=1, le=MAX_CATALOG_HOSTS, description="catalogue hosts to take"
    )
    cadence: Literal["long", "short"] = "long"
    seasons: list[Season] | None = Field(
        default=None, max_length=MAX_SEASONS, description="quarters, campaigns or sectors"
    )
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
    limit: int | None = Field(default=None, ge=1, le=MAX_TABLE_ROWS)
