"""Train a candidate classifier and save it with its manifest (no database needed, except with --labels).

Reproduce the shipped default models (see apps/ml/default_models/README.md)::

    python manage.py train_model --task triage --out apps/ml/default_models
    python manage.py train_model --task vetting --out apps/ml/default_models

Cross-validate a setting (k folds by star over train + validation pooled) and record the figures in a
shipped model's manifest (its card shows them)::

    python manage.py train_model --task triage --cv 5 --cv-into apps/ml/default_models/yu2019_triage.json

Train on the team's labels (a snapshot written by ``manage.py export_labels``) and register the model::

    python manage.py train_model --labels var/labels --epochs 20 --make-default
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.core.errors import GaiaError
from apps.ml.science.crossval import cross_validate
from apps.ml.science.datasets import split_by_star
from apps.ml.science.errors import MLScienceError
from apps.ml.science.networks import PRESETS, preset_config
from apps.ml.science.registry import (
    DEFAULT_MODEL_NAMES,
    ModelManifest,
    data_manifest,
    update_manifest,
)
from apps.ml.science.training import TrainConfig
from apps.ml.science.workflows import (
    TrainingData,
    train_and_save,
    view_dir_training_data,
    yu2019_training_data,
)
from apps.ml.selectors import labels_snapshot_views
from apps.ml.services import modelversion_register

DEFAULT_PRESETS = {"triage": "yu2019_triage", "vetting": "yu2019_vetting_transit"}

#: Numeric options that set a TrainConfig field of the same type: flag -> (field, help); the
#: default is the field's.
TRAIN_OPTIONS: dict[str, tuple[str, str | None]] = {
    "--epochs": ("epochs", None),
    "--batch-size": ("batch_size", None),
    "--lr": ("learning_rate", None),
    "--patience": ("patience", None),
    "--weight-decay": ("weight_decay", None),
    "--seed": ("seed", None),
    "--label-smoothing": ("label_smoothing", "train on targets y (1 - s) + s / 2"),
    "--ema-decay": (
        "ema_decay", "select on and keep a moving average of the weights (e.g. 0.995 per batch)"
    ),
    "--ensemble": ("ensemble_size", None),
    "--threads": ("num_threads", None),
}


class Command(BaseCommand):
    help = "Train a CNN on the Yu 2019 TESS TFRecords (or a --views folder), select on validation, save."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser) -> None:
        parser.add_argument("--task", choices=sorted(DEFAULT_PRESETS), default="triage")
        parser.add_argument("--preset", choices=sorted(PRESETS), help="default: yu2019_<task>")
        parser.add_argument(
            "--train", nargs="+", metavar="FILE", help="training TFRecords (default: demo data)"
        )
        parser.add_argument(
            "--val", nargs="+", metavar="FILE", help="validation TFRecords (default: demo data)"
        )
        parser.add_argument(
            "--views", metavar="DIR", help="folder of per-TCE .npz views, split 80/10/10 by star"
        )
        parser.add_argument(
            "--labels", metavar="DIR",
            help="a labels snapshot (manage.py export_labels): train on the views our pipeline stored for its "
            "TCEs, split 80/20 by star, and register the model (needs the database)",
        )
        parser.add_argument("--view-preset", default="yu2019", help="with --labels: the views preset read")
        parser.add_argument("--make-default", action="store_true", help="with --labels: make it its task's default")
        parser.add_argument("--out", default=None, help="output folder (default: DATA_ROOT/models)")
        parser.add_argument("--name", default=None, help="model name (default: the preset name)")
        for flag, (field, help_text) in TRAIN_OPTIONS.items():
            default = getattr(TrainConfig, field)
            metavar = flag[2:].upper().replace("-", "_")  # argparse's own, whatever the dest
            parser.add_argument(
                flag, dest=field, metavar=metavar, type=type(default), default=default, help=help_text
            )
        parser.add_argument(
            "--schedule", choices=["cosine", "plateau"], default=TrainConfig.schedule
        )
        parser.add_argument(
            "--fused-optimizer", action="store_true", help="AdamW's fused kernel (faster on CPU)"
        )
        parser.add_argument(
            "--dropout",
            type=float,
            default=None,
            help="dense-layer dropout (default: the preset's)",
        )
        parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
        parser.add_argument(
            "--class-weights", action="store_true", help="balance the classes in the loss"
        )
        parser.add_argument(
            "--no-reversal-choice",
            action="store_true",
            help="do not consider averaging over time-reversed views (chosen on validation AP otherwise)",
        )
        parser.add_argument("--dtype", choices=["float16", "float32"], default="float16")
        parser.add_argument(
            "--cv", type=int, metavar="K", default=0,
            help="instead of training one model: K-fold cross-validation by star over train + validation pooled",
        )
        parser.add_argument("--cv-into", metavar="MANIFEST", help="with --cv: record the figures in this model manifest")

    def handle(self, *args, **opts) -> None:
        task = opts["task"]
        overrides = {} if opts["dropout"] is None else {"dropout": opts["dropout"]}
        config = preset_config(opts["preset"] or DEFAULT_PRESETS[task], **overrides)
        train_config = TrainConfig(
            **{field: opts[field] for field, _ in TRAIN_OPTIONS.values()},
            schedule=opts["schedule"],
            device=opts["device"],
            class_weighting=opts["class_weights"],
            fused_optimizer=opts["fused_optimizer"],
        )
        name = opts["name"] or (
            DEFAULT_MODEL_NAMES[task] if opts["preset"] is None else opts["preset"]
        )
        out = opts["out"] or settings.DATA_ROOT / "models"
        snapshot = None
        try:
            if opts["labels"]:
                data, snapshot = self._snapshot_data(config, task, opts)
                name = opts["name"] or f"{config.preset}_labels_{snapshot[:12]}"
            elif opts["views"]:
                data = view_dir_training_data(config, opts["views"], seed=opts["seed"])
            else:
                data = yu2019_training_data(
                    config, task, settings.GAIA_DEMO_DATA, train_files=opts["train"], val_files=opts["val"]
                )
            if opts["cv"]:
                self._cross_validate(config, data, train_config, opts)
                return
            train, val = data.train, data.val
            self.stdout.write(
                f"training {name} ({config.preset}) on {len(train)} TCEs ({int(train.labels.sum())} positive), "
                f"selecting on {len(val)} ({int(val.labels.sum())} positive)"
            )
            path = train_and_save(
                config,
                data,
                train_config,
                out_dir=out,
                name=name,
                task=task,
                dtype=opts["dtype"],
                auto_reversal=not opts["no_reversal_choice"],
                on_progress=_TerminalProgress(self.stdout),
            )
        except MLScienceError as exc:
            raise CommandError(str(exc)) from exc
        if snapshot:
            self._register(path, snapshot, opts)
        manifest = ModelManifest.from_file(path)
        metrics = manifest.metrics["validation"]
        self.stdout.write(
            f"\nsaved {path} in {manifest.training['seconds']:.0f} s: validation AP "
            f"{metrics['average_precision']:.4f}, accuracy {metrics['accuracy']:.4f}, "
            f"temperature {manifest.temperature:.3f}"
        )

    def _cross_validate(self, config, data: TrainingData, train_config: TrainConfig, opts: dict) -> None:
        """Run the K folds, print a line per fold and the JSON summary; record it where asked."""
        pooled = data.train.concat(data.val)
        self.stdout.write(
            f"{opts['cv']}-fold cross-validation by star of {config.preset} on {len(pooled)} TCEs "
            f"({int(pooled.labels.sum())} positive)"
        )

        def on_fold(row: dict) -> None:
            self.stdout.write(json.dumps(row))
            self.stdout.flush()

        result = cross_validate(
            config, pooled, train_config, k=opts["cv"], auto_reversal=not opts["no_reversal_choice"], on_fold=on_fold
        )
        result["train_config"] = train_config.to_dict()
        result["data"] = {split: data_manifest(files) for split, files in data.files.items()} or data.entries
        self.stdout.write(json.dumps({"cross_validation": result["summary"], "k": result["k"]}))
        if opts["cv_into"]:
            path = Path(opts["cv_into"])
            manifest = ModelManifest.from_file(path)
            update_manifest(path, metrics={**manifest.metrics, "cross_validation": result})
            self.stdout.write(f"recorded in {opts['cv_into']}")

    def _snapshot_data(self, config, task: str, opts: dict) -> tuple[TrainingData, str]:
        """(training data split 80/20 by star, snapshot id) from a labels snapshot."""
        if config.scalar_names:
            raise CommandError("--labels trains views-only presets (the snapshot carries no scalar features)")
        try:
            data, entries, snapshot = labels_snapshot_views(
                labels_dir=opts["labels"], view_names=[b.view for b in config.branches],
                view_lengths=config.view_lengths(), task=task, view_preset=opts["view_preset"],
            )
        except GaiaError as exc:
            raise CommandError(exc.message) from exc
        train_index, val_index, _ = split_by_star(data.star_ids, fractions=(0.8, 0.2, 0.0), seed=opts["seed"])
        return TrainingData(data.subset(train_index), data.subset(val_index), entries=entries), snapshot

    def _register(self, path, snapshot: str, opts: dict) -> None:
        """Name the snapshot in the manifest, then register the model (its card shows the snapshot)."""
        manifest = ModelManifest.from_file(path)
        update_manifest(path, training={**manifest.training, "labels_snapshot": snapshot})
        try:
            version = modelversion_register(manifest_path=path, make_default=opts["make_default"])
        except GaiaError as exc:
            raise CommandError(exc.message) from exc
        default = " (default)" if version.is_default else ""
        self.stdout.write(f"registered model version {version.pk} {version.name}{default} from labels snapshot {snapshot}")

class _TerminalProgress:
    """Progress on the terminal: one line rewritten twice a second on a tty, else a line every 30 s."""

    def __init__(self, stream) -> None:
        self.stream, self.last, self.started = stream, 0.0, time.perf_counter()
        self.tty = sys.stdout.isatty()

    def __call__(self, done: int, total: int, stage: str) -> None:
        now = time.perf_counter()
        if now - self.last < (0.5 if self.tty else 30.0) and done < total:
            return
        self.last = now
        end = "\r" if self.tty and done < total else "\n"
        elapsed = now - self.started
        self.stream.write(
            f"{done}/{total} ({100 * done / total:.0f}%) {stage} [{elapsed:.0f} s]", ending=end
        )
        self.stream.flush()
