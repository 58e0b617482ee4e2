"""Write labelled views as a training set others can use: TFRecord shards in AstroNet's feature layout
and Parquet, split train/val/test by star, with a manifest (no Django here).

Each TCE becomes one ``tf.train.Example`` named as AstroNet's DR24 records are (Shallue & Vanderburg
2018, ``generate_input_records``): the views under their own names (``global_view``, ``local_view``,
...), the label string in ``av_training_set``, the star in ``kepid`` and the planet number in
``tce_plnt_num``, and the TCE columns as ``tce_period`` [d], ``tce_time0bk``, ``tce_duration`` [h],
``tce_depth`` [ppm], ``tce_model_snr`` and ``tce_max_mult_ev``. AstroNet's input pipeline reads the
views and maps ``av_training_set`` through its ``label_map``; our reader (`tfrecord.read_examples`)
reads every feature. ``gaia_tce_id``, ``mission`` and ``views_version`` say where each record came from.

Same examples, seed and shard size give the same bytes: examples are written in TCE id order, the
Parquet writer's options are fixed and nothing time-dependent is written.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .datasets import split_by_star
from .errors import DatasetError
from .registry import sha256_file
from .tfrecord import encode_example, write_records

FORMAT = "gaia-ml-dataset/1"
SPLITS = ("train", "val", "test")
#: TCE column -> AstroNet (DR24 TCE table) feature name.
SCALAR_FEATURES = {
    "period_days": "tce_period",
    "epoch": "tce_time0bk",
    "duration_hours": "tce_duration",
    "depth_ppm": "tce_depth",
    "snr": "tce_model_snr",
    "mes": "tce_max_mult_ev",
}
#: Fixed so that the same rows give the same bytes.
PARQUET_OPTIONS = {
    "compression": "zstd", "compression_level": 3, "use_dictionary": False, "write_statistics": False,
    "version": "2.6", "data_page_version": "1.0",
}


@dataclass(frozen=True)
class ExportExample:
    """One labelled TCE: its stored views (name -> 1-D array), TCE columns and label."""

    tce_id: int
    star_id: int
    tce_number: int
    mission: str
    label: str
    views: dict[str, np.ndarray]
    views_version: int
    scalars: dict[str, float | None]


def _record(example: ExportExample, view_names: Sequence[str]) -> bytes:
    features: dict = {name: np.asarray(example.views[name], dtype=np.float32).ravel() for name in view_names}
    features.update({
        "av_training_set": example.label,
        "kepid": np.array([example.star_id], dtype=np.int64),
        "tce_plnt_num": np.array([example.tce_number], dtype=np.int64),
        "gaia_tce_id": np.array([example.tce_id], dtype=np.int64),
        "mission": example.mission,
        "views_version": np.array([example.views_version], dtype=np.int64),
    })
    for column, feature in SCALAR_FEATURES.items():
        value = example.scalars.get(column)
        if value is not None and math.isfinite(value):
            features[feature] = np.array([value], dtype=np.float32)
    return encode_example(features)


def _table(examples: Sequence[ExportExample], view_names: Sequence[str]) -> pa.Table:
    columns: dict[str, pa.Array] = {
        "tce_id": pa.array([e.tce_id for e in examples], pa.int64()),
        "kepid": pa.array([e.star_id for e in examples], pa.int64()),
        "tce_plnt_num": pa.array([e.tce_number for e in examples], pa.int32()),
        "mission": pa.array([e.mission for e in examples], pa.string()),
        "av_training_set": pa.array([e.label for e in examples], pa.string()),
        "views_version": pa.array([e.views_version for e in examples], pa.int64()),
    }
    for column, feature in SCALAR_FEATURES.items():
        columns[feature] = pa.array([e.scalars.get(column) for e in examples], pa.float64())
    for name in view_names:
        rows = [np.asarray(e.views[name], dtype=np.float32).ravel().tolist() for e in examples]
        columns[name] = pa.array(rows, pa.list_(pa.float32()))
    return pa.table(columns)


def shard_names(split: str, n_examples: int, shard_size: int) -> list[str]:
    """AstroNet-style shard names (``train-00000-of-00002`` ...); none for an empty split."""
    count = math.ceil(n_examples / shard_size)
    return [f"{split}-{index:05d}-of-{count:05d}" for index in range(count)]


def write_dataset(
    out_dir: str | Path,
    examples: Sequence[ExportExample],
    *,
    seed: int = 123,
    shard_size: int = 1000,
    meta: dict | None = None,
) -> dict:
    """Split ``examples`` by star (80/10/10, ``seed``), write TFRecord shards and one Parquet file per
    split into ``out_dir`` and ``manifest.json``; return the manifest.

    Only the views every example has are written. ``meta`` (label source, views preset, ...) is
    copied into the manifest.

    Raises
    ------
    DatasetError
        No examples, or no view common to all of them.
    """
    if not examples:
        raise DatasetError("no labelled TCE with stored views to export")
    examples = sorted(examples, key=lambda e: e.tce_id)
    view_names = sorted(set.intersection(*(set(e.views) for e in examples)))
    if not view_names:
        raise DatasetError("the examples share no view")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    parts = split_by_star(np.array([e.star_id for e in examples]), seed=seed)
    splits, files = {}, {}
    for split, index in zip(SPLITS, parts, strict=True):
        chosen = [examples[i] for i in index]
        names = shard_names(split, len(chosen), shard_size)
        for number, name in enumerate(names):
            write_records(out / name, [_record(e, view_names) for e in chosen[number * shard_size:(number + 1) * shard_size]])
        if chosen:
            pq.write_table(_table(chosen, view_names), out / f"{split}.parquet", **PARQUET_OPTIONS)
            names.append(f"{split}.parquet")
        files.update({name: {"bytes": (out / name).stat().st_size, "sha256": sha256_file(out / name)} for name in names})
        splits[split] = {
            "examples": len(chosen),
            "stars": len({e.star_id for e in chosen}),
            "labels": dict(sorted(Counter(e.label for e in chosen).items())),
        }
    manifest = {
        "format": FORMAT,
        **(meta or {}),
        "examples": len(examples),
        "splits": splits,
        "split": {"by": "star (kepid)", "fractions": [0.8, 0.1, 0.1], "seed": seed},
        "views": view_names,
        "views_versions": dict(sorted(Counter(str(e.views_version) for e in examples).items())),
        "features": {
            "label": "av_training_set", "star": "kepid", "planet_number": "tce_plnt_num",
            **{feature: column for column, feature in SCALAR_FEATURES.items()},
        },
        "files": files,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest
