"""Evaluate a saved model on labelled views and print one JSON line (no database needed).

    python manage.py evaluate_model --tfrecords ../shared/data/tess_yu2019/triage/val-00000-of-00001 --task triage

prints ``{"n": ..., "average_precision": ..., "accuracy": ..., "roc_auc": ..., "precision": ...,
"recall": ..., "threshold": 0.5, "model": NAME, "ensemble_size": 1}``. Without ``--model`` the site's
default model of the task is used (``--mission`` picks that mission's default, see
``registry.MODEL_DEFAULTS``); ``--model`` takes a manifest path, a folder or a shipped model name.
``--views DIR --split test --seed S`` scores only the held-out part of the by-star split that
``train_model --views DIR --seed S`` made.
"""

from __future__ import annotations

import json
import math

from django.core.management.base import BaseCommand, CommandError

from apps.ml.science.datasets import split_by_star
from apps.ml.science.errors import MLScienceError
from apps.ml.science.registry import MISSIONS, load_model
from apps.ml.science.training import TrainConfig
from apps.ml.science.workflows import evaluate_model, load_labelled

SPLITS = ("train", "val", "test")  # the order of workflows.split_view_dir


class Command(BaseCommand):
    help = "Score labelled TFRecords (or a --views folder) with a model; print one JSON line of metrics."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--model", default=None, help="manifest path, folder or shipped model name"
        )
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--tfrecords", nargs="+", metavar="FILE", help="Yu 2019 TFRecord files")
        source.add_argument("--views", metavar="DIR", help="folder of per-TCE .npz view files")
        parser.add_argument("--task", choices=["triage", "vetting"], required=True)
        parser.add_argument(
            "--mission", choices=list(MISSIONS),
            help="without --model: that mission's default model of the task (else the task's default)",
        )
        parser.add_argument(
            "--split",
            choices=list(SPLITS),
            help="with --views: score only this part of train_model's 80/10/10 split by star",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=TrainConfig.seed,
            help="with --split: the --seed train_model was given (it seeds the split)",
        )
        parser.add_argument("--threshold", type=float, default=0.5)
        parser.add_argument("--device", default="cpu", choices=["cpu", "cuda", "auto"])

    def handle(self, *args, **opts) -> None:
        if not 0.0 <= opts["threshold"] <= 1.0:
            raise CommandError("--threshold must be in [0, 1]")
        if opts["split"] and not opts["views"]:
            raise CommandError("--split needs --views (TFRecord shards are already split)")
        try:
            loaded = load_model(
                opts["model"], task=opts["task"], mission=opts["mission"], device=opts["device"]
            )
            data = load_labelled(
                loaded.model.config,
                task=opts["task"],
                tfrecords=opts["tfrecords"] or (),
                views_dir=opts["views"],
            )
            if opts["split"]:
                parts = split_by_star(data.star_ids, seed=opts["seed"])
                data = data.subset(parts[SPLITS.index(opts["split"])])
            metrics = evaluate_model(loaded, data, threshold=opts["threshold"])
        except MLScienceError as exc:
            raise CommandError(str(exc)) from exc
        metrics["model"] = loaded.manifest.name
        metrics["ensemble_size"] = loaded.model.config.ensemble_size
        clean = {
            k: (None if isinstance(v, float) and not math.isfinite(v) else v)
            for k, v in metrics.items()
        }
        self.stdout.write(json.dumps(clean))
