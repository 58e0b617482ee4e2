"""The catalogue's part of ``manage.py check_data``: every LightCurve's Parquet file is whole."""

from __future__ import annotations

from collections.abc import Iterator

from apps.catalog.models import LightCurve
from apps.jobs.integrity import Reference, whole_parquet


def _whole(relative: str) -> str | None:
    return None if whole_parquet(relative) else "not a whole Parquet file"


def lightcurve_references() -> Iterator[Reference]:
    for curve in LightCurve.objects.only("pk", "parquet_path").iterator():
        yield Reference(f"lightcurve {curve.pk}", curve.parquet_path, _whole)
