"""The labels snapshot: ``labels.parquet`` + ``manifest.json``, byte-identical for the same labels and code.

Rows are sorted (TCE id, then people before catalogue sources), the Parquet writer's options are fixed
and nothing time-dependent is written (no export date, no label times), so exporting the same labels
twice gives the same bytes; ``snapshot_id`` is the sha256 of the rows' canonical JSON, so it names the
label content whatever the file format.
"""

from __future__ import annotations

import hashlib
import json
import math
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings

from apps.core.errors import InvalidInput
from apps.core.files import atomic_path, data_root, sha256_file
from apps.jobs.models import Artifact, Job
from apps.jobs.runner import code_version
from apps.jobs.services import artifact_store
from apps.vetting.models import (
    DECISIVE_LABELS,
    CatalogLabel,
    CatalogLabelSource,
    VettingLabel,
    VettingState,
    VettingStatus,
)

FORMAT = "gaia-vetting-labels/1"
PEOPLE = "people"
RULES = (
    "people: a TCE's label is its newest adjudication when there is one",
    "people: else the agreed consensus: at least labels_per_tce people whose newest labels are decisive and all equal",
    "people: TCEs in conflict or still short of labels are left out; '?' (unsure) is never a label",
    "people: the proposed ephemeris and the views version are those of the newest label equal to the final "
    "label (else the newest label)",
    "catalogue labels appear only for the sources in include_sources, as rows of their own (column source)",
)
#: Column -> (arrow type, meaning), in file order.
COLUMNS: dict[str, tuple[pa.DataType, str]] = {
    "tce_id": (pa.int64(), "TCE id in this site"),
    "source": (pa.string(), "people, or the catalogue label source (dr24, dr25, toi)"),
    "label": (pa.string(), "PC, EB, NEB, FP, V, IS or J"),
    "rule": (pa.string(), "adjudicated, agreed, or catalog"),
    "n_labels": (pa.int32(), "people's decisive labels counted (0 for catalogue rows)"),
    "mission": (pa.string(), "kepler, k2 or tess"),
    "star_id": (pa.int64(), "KIC/EPIC/TIC number (-1 when not numeric): split by star"),
    "tce_number": (pa.int32(), "planet number within the target"),
    "period_days": (pa.float64(), "catalogue period, d"),
    "epoch": (pa.float64(), "catalogue mid-transit time, epoch_system"),
    "epoch_system": (pa.string(), "BKJD or BTJD"),
    "duration_hours": (pa.float64(), "catalogue duration, h"),
    "proposed_period_days": (pa.float64(), "ephemeris proposed with the label (null: none)"),
    "proposed_epoch": (pa.float64(), "proposed mid-transit time, epoch_system"),
    "proposed_duration_hours": (pa.float64(), "proposed duration, h"),
    "views_preset": (pa.string(), "preset of the views artifact labelled on ('' unknown)"),
    "views_version": (pa.int32(), "version of that views artifact (null unknown)"),
}
#: Fixed writer options: the same rows give the same bytes (with the same pyarrow).
PARQUET_OPTIONS = {
    "compression": "zstd", "compression_level": 3, "use_dictionary": False, "write_statistics": False,
    "version": "2.6", "data_page_version": "1.0", "row_group_size": 1 << 20,
}


def _star_id(identifier: str) -> int:
    return int(identifier) if identifier.isdigit() else -1


def _tce_fields(tce) -> dict:  # noqa: ANN001
    return {
        "mission": tce.mission, "star_id": _star_id(tce.target.identifier), "tce_number": tce.tce_number,
        "period_days": tce.period_days, "epoch": tce.epoch, "epoch_system": tce.epoch_system,
        "duration_hours": tce.duration_hours,
    }


def _people_rows() -> list[dict]:
    states = (
        VettingState.objects.filter(status__in=[VettingStatus.AGREED, VettingStatus.ADJUDICATED])
        .exclude(label="")
        .select_related("tce__target")
    )
    finals = {state.tce_id: state for state in states}
    # The newest label per (TCE, person), then per TCE the newest one equal to the final label.
    newest: dict[int, dict[int, VettingLabel]] = {}
    labels = VettingLabel.objects.filter(tce_id__in=finals.keys()).order_by("tce_id", "user_id", "-created_at", "-id")
    for label in labels.distinct("tce_id", "user_id"):
        newest.setdefault(label.tce_id, {})[label.user_id] = label
    rows = []
    for tce_id, state in finals.items():
        ranked = sorted(newest.get(tce_id, {}).values(), key=lambda row: (row.created_at, row.id), reverse=True)
        basis = next((row for row in ranked if row.label == state.label), ranked[0] if ranked else None)
        rows.append({
            "tce_id": tce_id, "source": PEOPLE, "label": state.label, "rule": state.status, "n_labels": state.n_labels,
            **_tce_fields(state.tce),
            "proposed_period_days": basis.period_days if basis else None,
            "proposed_epoch": basis.epoch if basis else None,
            "proposed_duration_hours": basis.duration_hours if basis else None,
            "views_preset": basis.views_preset if basis else "",
            "views_version": basis.views_version if basis else None,
        })
    return rows


def _catalogue_rows(source: str) -> list[dict]:
    labels = CatalogLabel.objects.filter(source=source, label__in=DECISIVE_LABELS).select_related("tce__target")
    return [
        {"tce_id": row.tce_id, "source": source, "label": row.label, "rule": "catalog", "n_labels": 0,
         **_tce_fields(row.tce), "proposed_period_days": None, "proposed_epoch": None,
         "proposed_duration_hours": None, "views_preset": "", "views_version": None}
        for row in labels
    ]


def _clean(value: object) -> object:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def labels_snapshot(*, include_sources: Sequence[str] = ()) -> tuple[list[dict], dict]:
    """(rows, manifest) of the current labels; see RULES."""
    sources = sorted(set(include_sources))
    unknown = [s for s in sources if s not in CatalogLabelSource.values]
    if unknown:
        raise InvalidInput(f"unknown label source(s) {unknown}; known: {CatalogLabelSource.values}")
    rows = _people_rows()
    for source in sources:
        rows += _catalogue_rows(source)
    rows = [{name: _clean(row[name]) for name in COLUMNS} for row in rows]
    rows.sort(key=lambda row: (row["tce_id"], row["source"] != PEOPLE, row["source"]))
    canonical = "\n".join(json.dumps(row, sort_keys=True, separators=(",", ":")) for row in rows)
    counts: dict[str, dict[str, int]] = {}
    for source in [PEOPLE, *sources]:
        per_class = Counter(row["label"] for row in rows if row["source"] == source)
        counts[source] = {code: per_class[code] for code in DECISIVE_LABELS if per_class[code]}
    manifest = {
        "format": FORMAT,
        "snapshot_id": hashlib.sha256(canonical.encode()).hexdigest(),
        "rows": len(rows),
        "tces": len({row["tce_id"] for row in rows}),
        "counts": counts,
        "counts_by_rule": dict(sorted(Counter(row["rule"] for row in rows).items())),
        "rules": list(RULES),
        "labels_per_tce": settings.GAIA_LABELS_PER_TCE,
        "include_sources": sources,
        "code_version": code_version(),
        "columns": {name: meaning for name, (_type, meaning) in COLUMNS.items()},
    }
    return rows, manifest


def _write_parquet(rows: list[dict], path: Path) -> None:
    schema = pa.schema([(name, kind) for name, (kind, _meaning) in COLUMNS.items()])
    table = pa.Table.from_pylist(rows, schema=schema)
    pq.write_table(table, path, **PARQUET_OPTIONS)


def labels_export(*, out_dir: Path | str, include_sources: Iterable[str] = ()) -> dict:
    """Write ``out_dir/labels.parquet`` and ``out_dir/manifest.json``; returns the manifest."""
    rows, manifest = labels_snapshot(include_sources=tuple(include_sources))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "labels.parquet") as tmp:
        _write_parquet(rows, tmp)
    parquet = out / "labels.parquet"
    manifest["files"] = {"labels.parquet": {"bytes": parquet.stat().st_size, "sha256": sha256_file(parquet)}}
    with atomic_path(out / "manifest.json") as tmp:
        tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def export_params_validate(params: dict) -> dict:
    sources = params.get("include_sources") or []
    if isinstance(sources, str):
        sources = [sources]
    unknown = sorted(set(sources) - set(CatalogLabelSource.values))
    if unknown:
        raise InvalidInput(f"unknown label source(s) {unknown}; known: {CatalogLabelSource.values}")
    return {"include_sources": sorted(set(sources))}


def labels_export_artifacts(*, include_sources: Sequence[str] = (), job: Job | None = None) -> dict:
    """Export into DATA_ROOT as two artifacts (``labels/<sources>``: the Parquet, ``.../manifest``: the
    manifest); an unchanged snapshot adds no version. Returns the snapshot id, counts and artifact ids."""
    key = "labels/" + "+".join([PEOPLE, *sorted(include_sources)])
    with tempfile.TemporaryDirectory(dir=data_root()) as tmp:
        manifest = labels_export(out_dir=tmp, include_sources=include_sources)
        snapshot = manifest["snapshot_id"]
        stored = Artifact.objects.filter(key=key, meta__snapshot_id=snapshot).order_by("-version").first()
        if stored is None:
            meta = {"snapshot_id": snapshot, "counts": manifest["counts"], "rows": manifest["rows"]}
            stored = artifact_store(key=key, kind="labels_snapshot", source=Path(tmp) / "labels.parquet", job=job, meta=meta,
                                    provenance={"code_version": manifest["code_version"]})
            artifact_store(key=f"{key}/manifest", kind="labels_manifest", source=Path(tmp) / "manifest.json", job=job,
                           meta={"snapshot_id": snapshot})
    manifest_artifact = Artifact.objects.filter(key=f"{key}/manifest", meta__snapshot_id=snapshot).order_by("-version").first()
    return {"snapshot_id": snapshot, "rows": manifest["rows"], "counts": manifest["counts"],
            "artifact_id": stored.pk, "manifest_artifact_id": manifest_artifact.pk if manifest_artifact else None}
