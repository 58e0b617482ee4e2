"""The catalogue's part of ``manage.py check_data``: every LightCurve's Parquet file is whole."""

from __future__ import annotations

from collections.abc import Iterator

from apps.catalog.models import LightCurve
from apps.jobs.integrity import Reference, whole_parquet


def lightcurve_references() -> Iterator[Reference]:
    for curve in LightCurve.objects.only("pk", "parquet_path").iterator():
        yield (f"lightcurve {curve.pk}", curve.parquet_path,
               lambda p: None if whole_parquet(p) else "not a whole Parquet file")
