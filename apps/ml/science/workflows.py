"""End-to-end steps shared by the management commands and the site's jobs (no Django here).

The one training workflow of the ``train_model`` command and the ``train_model`` job: build a
`TrainingData` (`yu2019_training_data` for the Yu et al. 2019 TFRecords, `view_dir_training_data`
for a folder of ``.npz`` views, or the caller's own split, e.g. a labels snapshot), then
`train_and_save` trains on it, selects on validation, saves the model, reloads it (so that metrics
describe the saved float16 weights), fits the calibration temperature on validation and writes
metrics, calibration, the training-data manifest and the training domain into the model manifest.
`evaluate_model` scores labelled views with a loaded model and returns the issue's metric set.
"""

from __future__ import annotations

import platform
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .datasets import LabelledViews, load_tfrecord_views, load_view_dir, split_by_star, yu2019_files
from .evaluation import binary_metrics, calibration_report, sigmoid
from .inference import score
from .networks import CandidateClassifier, ModelConfig
from .registry import (
    LoadedModel,
    data_manifest,
    load_model,
    save_model,
    update_manifest,
    view_dir_manifest,
)
from .tfrecord import read_examples
from .training import CancelFn, ProgressFn, TrainConfig, train_model


def model_inputs(config: ModelConfig) -> tuple[list[str], list[str]]:
    """(view names, scalar names) a model config reads from the data."""
    return [b.view for b in config.branches], list(config.scalar_names)


def load_labelled(
    config: ModelConfig,
    *,
    task: str,
    tfrecords: Sequence[str | Path] = (),
    views_dir: str | Path | None = None,
) -> LabelledViews:
    """Labelled views for ``config`` from TFRecord files (Yu 2019 labels for ``task``) or a view folder."""
    views, scalars = model_inputs(config)
    if views_dir is not None:
        return load_view_dir(views_dir, view_names=views, scalar_names=scalars)
    return load_tfrecord_views(tfrecords, task=task, view_names=views, scalar_names=scalars)


@dataclass
class TrainingData:
    """A training and a validation set plus what the model manifest records about them.

    ``files`` maps a split name ("train", "validation") to the files it came from (their names,
    sizes and sha256 go into the manifest); ``entries`` adds ready-made manifest entries (e.g.
    ``registry.view_dir_manifest`` for a folder of views); ``domain`` is the training domain shown
    on the model card and checked by the site (mission, cadence, description, period_days).
    """

    train: LabelledViews
    val: LabelledViews
    files: dict[str, list[Path]] = field(default_factory=dict)
    entries: dict[str, list[dict]] = field(default_factory=dict)
    domain: dict = field(default_factory=dict)


#: Mission and cadence of the Yu et al. 2019 views: QLP light curves of TESS 30-min full-frame images.
YU2019_DOMAIN = {"mission": "tess", "cadence": "30min", "description": "TESS 30-min full-frame images (Yu et al. 2019)"}


def yu2019_domain(files: Sequence[str | Path]) -> dict:
    """`YU2019_DOMAIN` with the range of TCE periods (``Period``, days) in ``files``."""
    periods = [float(example["Period"][0]) for example in read_examples(files) if "Period" in example]
    if not periods:
        return dict(YU2019_DOMAIN)
    return {**YU2019_DOMAIN, "period_days": [round(min(periods), 4), round(max(periods), 4)]}


def yu2019_training_data(
    config: ModelConfig,
    task: str,
    root: str | Path,
    *,
    train_files: Sequence[str | Path] | None = None,
    val_files: Sequence[str | Path] | None = None,
    max_examples: int | None = None,
) -> TrainingData:
    """The Yu et al. 2019 train and validation shards of ``task`` under ``root`` (or the given files).

    ``max_examples`` keeps the first N training examples (quick runs: tests, trying settings).
    """
    train_files = [Path(p) for p in train_files or yu2019_files(root, task, "train")]
    val_files = [Path(p) for p in val_files or yu2019_files(root, task, "val")]
    train = load_labelled(config, task=task, tfrecords=train_files)
    if max_examples:
        train = train.subset(np.arange(min(len(train), max_examples)))
    return TrainingData(
        train=train,
        val=load_labelled(config, task=task, tfrecords=val_files),
        files={"train": train_files, "validation": val_files},
        domain=yu2019_domain(train_files),
    )


def view_dir_training_data(config: ModelConfig, views_dir: str | Path, *, seed: int) -> TrainingData:
    """A folder of per-TCE ``.npz`` views split 80/10/10 by star (the test part is left out)."""
    train, val, _ = split_view_dir(config, views_dir, seed=seed)
    return TrainingData(train=train, val=val, entries={"views": view_dir_manifest(views_dir)})


def split_view_dir(
    config: ModelConfig, views_dir: str | Path, *, seed: int = 123
) -> tuple[LabelledViews, LabelledViews, LabelledViews]:
    """A view folder split 80/10/10 by star into (train, validation, test)."""
    data = load_labelled(config, task="kepler", views_dir=views_dir)
    return tuple(data.subset(idx) for idx in split_by_star(data.star_ids, seed=seed))  # type: ignore[return-value]


def model_scores(model: CandidateClassifier, data: LabelledViews, *, temperature: float = 1.0, batch_size: int = 512):
    """`Scores` of every example of ``data`` with ``model``, its scalar columns picked by name."""
    columns = [data.scalar_names.index(n) for n in model.config.scalar_names]
    return score(model, data.views, data.scalars[:, columns], temperature=temperature, batch_size=batch_size)


def scores_for(loaded: LoadedModel, data: LabelledViews, *, batch_size: int = 512):
    """`Scores` of every example of ``data`` with a loaded model."""
    return model_scores(loaded.model, data, temperature=loaded.temperature, batch_size=batch_size)


def evaluate_model(loaded: LoadedModel, data: LabelledViews, *, threshold: float = 0.5) -> dict:
    """n, average_precision, accuracy, roc_auc, precision, recall, threshold of ``loaded`` on ``data``.

    Uses the uncalibrated score; temperature scaling leaves the 0.5 decision and the ranking unchanged.
    """
    return binary_metrics(data.labels, scores_for(loaded, data).raw, threshold=threshold)


def choose_test_time_reversal(model: CandidateClassifier, val: LabelledViews) -> dict[str, float]:
    """Set ``model.config.test_time_reversal`` to whichever setting scores the higher validation AP.

    Returns the validation AP of both settings ({"False": ap, "True": ap}).
    """
    scores = {}
    for setting in (False, True):
        model.config.test_time_reversal = setting
        scores[str(setting)] = binary_metrics(val.labels, model_scores(model, val).raw)["average_precision"]
    model.config.test_time_reversal = scores["True"] > scores["False"]
    return scores


def _jsonable_calibration(report: dict) -> dict:
    out = {}
    for key, value in report.items():
        if isinstance(value, dict):
            out[key] = {
                k: [None if not np.isfinite(x) else float(x) for x in np.asarray(v, dtype=float)]
                for k, v in value.items()
            }
        else:
            out[key] = float(value)
    return out


def train_and_save(
    model_config: ModelConfig,
    data: TrainingData,
    train_config: TrainConfig,
    *,
    out_dir: str | Path,
    name: str,
    task: str,
    dtype: str = "float16",
    auto_reversal: bool = True,
    on_progress: ProgressFn | None = None,
    should_cancel: CancelFn | None = None,
) -> Path:
    """Train, save, reload, calibrate on validation and record everything; returns the manifest path.

    With ``auto_reversal`` the saved model also averages over time-reversed views
    (``test_time_reversal``) when that scores a higher validation AP (a selection on validation,
    recorded in the manifest). See `TrainingData` for what is recorded about the data.
    """
    train, val = data.train, data.val
    result = train_model(
        model_config, train, val, train_config, on_progress=on_progress, should_cancel=should_cancel
    )
    reversal_ap = choose_test_time_reversal(result.model, val) if auto_reversal else {}
    manifest_path = save_model(result.model, out_dir, name, task=task, dtype=dtype)
    loaded = load_model(manifest_path)
    val_scores = scores_for(loaded, val)
    calibration = calibration_report(val.labels, val_scores.logits)
    metrics = binary_metrics(val.labels, val_scores.raw)
    metrics_calibrated = binary_metrics(
        val.labels, sigmoid(val_scores.logits / calibration["temperature"])
    )
    training = {
        "train_config": train_config.to_dict(),
        "seed": train_config.seed,
        "seconds": round(result.seconds, 1),
        "best_epochs": result.best_epochs,
        "history": result.history,
        "validation_ap_by_test_time_reversal": reversal_ap,
        "n_train": len(train),
        "n_validation": len(val),
        "positives_train": int(train.labels.sum()),
        "positives_validation": int(val.labels.sum()),
        "data": {
            **{split: data_manifest(files) for split, files in data.files.items()},
            **data.entries,
        },
        **({"domain": data.domain} if data.domain else {}),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    update_manifest(
        manifest_path,
        temperature=calibration["temperature"],
        metrics={"validation": metrics, "validation_calibrated": metrics_calibrated},
        calibration=_jsonable_calibration(calibration),
        training=training,
    )
    return manifest_path
