"""``export_dataset``: the views our pipeline stored, with labels, as a training set (see
``science/export.py`` for the file layout).

Labels come from a labels snapshot (``manage.py export_labels``: one row per TCE, people's label first)
or from a catalogue (``dr24``: the DR24 TCEs' ``av_training_set``, kept as the TCE disposition PC,
AFP or NTP). The views are those of ``preset``: for a snapshot row made on that preset, the version
the label was made on, else the newest.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow.parquet as pq

from apps.catalog.models import TCE, TCESource
from apps.core.errors import InvalidInput
from apps.lightcurves.selectors import tce_views_latest
from apps.ml.science.errors import MLScienceError
from apps.ml.science.export import SCALAR_FEATURES, ExportExample, write_dataset

CATALOGS = {"dr24": (TCESource.KEPLER_DR24, ("PC", "AFP", "NTP"))}


def _star_id(tce: TCE) -> int:
    identifier = tce.target.identifier
    return int(identifier) if identifier.isascii() and identifier.isdigit() else -1


def _snapshot_labels(labels_dir: str | Path) -> tuple[dict[int, tuple[str, int | None, str]], str]:
    """{TCE id: (label, views version, views preset)} of a labels snapshot, and its label-source text."""
    folder = Path(labels_dir)
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
        rows = pq.read_table(folder / "labels.parquet", columns=["tce_id", "label", "views_preset", "views_version"])
    except (OSError, ValueError, KeyError) as exc:
        raise InvalidInput(f"{folder} is not a labels snapshot (manifest.json + labels.parquet): {exc}") from exc
    chosen: dict[int, tuple[str, int | None, str]] = {}
    for row in rows.to_pylist():  # sorted by TCE, people's row first
        chosen.setdefault(row["tce_id"], (row["label"], row["views_version"], row["views_preset"]))
    return chosen, f"labels snapshot {manifest.get('snapshot_id', '')}"


def dataset_export(
    *, out_dir: str | Path, preset: str = "yu2019", labels_dir: str | Path | None = None,
    catalog: str | None = None, seed: int = 123, shard_size: int = 1000,
) -> dict:
    """Write the dataset of the labelled TCEs that have ``preset`` views; returns the manifest."""
    if (labels_dir is None) == (catalog is None):
        raise InvalidInput("give exactly one label source: a labels snapshot folder or a catalogue")
    if labels_dir is not None:
        snapshot, label_source = _snapshot_labels(labels_dir)
        labels = {tce_id: (label, version if made_on == preset else None)
                  for tce_id, (label, version, made_on) in snapshot.items()}
    else:
        if catalog not in CATALOGS:
            raise InvalidInput(f"unknown catalogue {catalog!r}; known: {sorted(CATALOGS)}")
        source, codes = CATALOGS[catalog]
        found = TCE.objects.filter(source=source, disposition__in=codes).values_list("pk", "disposition")
        labels = {pk: (code, None) for pk, code in found}
        label_source = f"catalogue {catalog}: av_training_set ({', '.join(codes)})"
    examples, skipped, digest = [], {}, hashlib.sha256()
    tces = TCE.objects.filter(pk__in=list(labels)).select_related("target").order_by("pk")
    for tce in tces:
        label, version = labels[tce.pk]
        found = tce_views_latest(tce_id=tce.pk, preset=preset, version=version)
        if found is None:
            skipped[str(tce.pk)] = f"no {preset} views{f' version {version}' if version else ''}"
            continue
        arrays, artifact = found
        views = {name: array for name, array in arrays.items() if name.endswith("_view")}
        examples.append(ExportExample(
            tce_id=tce.pk, star_id=_star_id(tce), tce_number=tce.tce_number, mission=tce.mission, label=label,
            views=views, views_version=artifact.version,
            scalars={column: getattr(tce, column) for column in SCALAR_FEATURES},
        ))
        digest.update(f"{tce.pk}\0{artifact.version}\0{artifact.sha256}\n".encode())
    meta = {"label_source": label_source, "views_preset": preset, "views_sha256": digest.hexdigest(),
            "skipped": skipped}
    try:
        return write_dataset(out_dir, examples, seed=seed, shard_size=shard_size, meta=meta)
    except MLScienceError as exc:
        raise InvalidInput(f"{exc} (skipped: {skipped})") from exc
