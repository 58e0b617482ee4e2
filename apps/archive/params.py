"""Parameters of the archive jobs: ``archive_download``, ``archive_ingest``, ``archive_import_tables``.

Types and bounds live here; which missions, catalogues, seasons and tables exist is checked by the
services (``DownloadSpec.validate``, ``TABLES``). A mirror or demo folder is never a parameter: the
worker reads GAIA_ARCHIVE_MIRROR_ROOT and GAIA_DEMO_DATA.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from apps.core.bounds import DbId, JobParams, Text

#: Stars one download request may name; catalogue downloads take at most MAX_CATALOG_HOSTS hosts.
MAX_IDENTIFIERS = 10_000
MAX_CATALOG_HOSTS = 300_000
#: Requests in flight per download job.
MAX_CONCURRENCY = 64
#: Quarters, campaigns or sectors per request, and the largest season number accepted.
MAX_SEASONS, MAX_SEASON = 200, 1000
#: Ledger files one ingest job may take (a catalogue download can verify this many).
MAX_INGEST_FILES = 500_000
#: Rows per table of a TAP import (``select top N``).
MAX_TABLE_ROWS = 10_000_000

Season = Annotated[int, Field(ge=0, le=MAX_SEASON)]


class DownloadParams(JobParams):
    mission: Text = "kepler"
    identifiers: list[Annotated[int, Field(ge=0, le=2**63 - 1)] | Text] = Field(
        default_factory=list, max_length=MAX_IDENTIFIERS, description="KIC/EPIC/TIC numbers"
    )
    cadence: Text = "long"
    seasons: list[Season] | None = Field(None, max_length=MAX_SEASONS)
    catalog: Text | None = None
    limit: int | None = Field(None, ge=1, le=MAX_CATALOG_HOSTS)
    ingest: bool = True
    source: Literal["mast", "mirror"] = "mast"
    concurrency: int | None = Field(None, ge=1, le=MAX_CONCURRENCY)
    max_attempts: int = Field(5, ge=1, le=20)
    recheck_missing: bool = False


class IngestParams(JobParams):
    file_ids: list[DbId] = Field(min_length=1, max_length=MAX_INGEST_FILES)
    parent_job_id: DbId | None = None


class TablesParams(JobParams):
    names: list[Text] = Field(min_length=1, max_length=10)
    source: Literal["tap", "local"] = "tap"
    limit: int | None = Field(None, ge=1, le=MAX_TABLE_ROWS)

    @field_validator("names")
    @classmethod
    def _once(cls, names: list[str]) -> list[str]:
        return list(dict.fromkeys(names))
