"""Light-curve products: a TCE's views (NPZ arrays, diagnostics in the meta) and a target's
flattened series (Parquet), one versioned job artifact per preset.

The only module that knows these products' artifact keys: the services store through it and the
selectors, vetting and ml read through it, so a key cannot be spelt two ways.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from apps.catalog.models import TCE, Target
from apps.jobs.models import Artifact, Job
from apps.jobs.selectors import artifact_latest
from apps.jobs.services import artifact_local_path, artifact_store
from apps.lightcurves.science.pipeline import TceViews


def views_key(tce_id: int, preset: str) -> str:
    return f"tce/{tce_id}/views/{preset}"


def flattened_key(target_id: int, preset: str) -> str:
    return f"target/{target_id}/flattened/{preset}"


def json_ready(value: object) -> object:
    """JSON-ready copy of a diagnostics value (numpy scalars and arrays to Python, NaN to None)."""
    if isinstance(value, np.ndarray):
        return [json_ready(v) for v in value.tolist()]
    if isinstance(value, (np.floating, float)):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    return value


def flattened_store(
    *, target: Target, preset: str, columns: dict[str, np.ndarray], meta: dict, job: Job | None, provenance: dict
) -> Artifact:
    """Store a new version of the target's flattened series (``columns`` of equal length)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"flattened_{preset}.parquet"
        pq.write_table(pa.table(columns), path, compression="zstd")
        return artifact_store(
            key=flattened_key(target.pk, preset), kind="flattened", source=path, job=job, target=target,
            meta={"preset": preset, **meta}, provenance=provenance,
        )


def views_store(*, tce: TCE, preset: str, result: TceViews, job: Job | None, provenance: dict) -> Artifact:
    """Store a new version of the TCE's views: the arrays in the file, the diagnostics in the meta,
    where pages read them without opening the file."""
    arrays = {name: np.asarray(view, dtype=np.float64) for name, view in result.views.items()}
    diagnostics = {k: json_ready(v) for k, v in result.diagnostics.items()}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"views_{preset}.npz"
        np.savez_compressed(path, **arrays)
        return artifact_store(
            key=views_key(tce.pk, preset), kind="views", source=path, job=job, target=tce.target,
            meta={"preset": preset, "diagnostics": diagnostics, "tce_id": tce.pk}, provenance=provenance,
        )


def views_artifact(*, tce_id: int, preset: str, version: int | None = None) -> Artifact | None:
    """The TCE's newest views artifact for ``preset`` (or its version ``version``), or None."""
    return artifact_latest(key=views_key(tce_id, preset), version=version)


def flattened_artifact(*, target_id: int, preset: str) -> Artifact | None:
    """The target's newest flattened-series artifact for ``preset``, or None."""
    return artifact_latest(key=flattened_key(target_id, preset))


def views_load(artifact: Artifact) -> dict[str, np.ndarray]:
    """The arrays of a views artifact, by name."""
    with artifact_local_path(artifact) as path, np.load(path) as data:
        return {name: data[name] for name in data.files}


def flattened_load(artifact: Artifact) -> dict[str, np.ndarray]:
    """The columns of a flattened-series artifact, by name."""
    with artifact_local_path(artifact) as path:
        table = pq.read_table(path)
    return {name: table.column(name).to_numpy() for name in table.column_names}


def views_presets_stored(*, tce_id: int, presets: Iterable[str]) -> set[str]:
    """Those of ``presets`` for which the TCE has views (one query)."""
    keys = {views_key(tce_id, p): p for p in presets}
    return {keys[k] for k in Artifact.objects.filter(key__in=list(keys)).values_list("key", flat=True)}
