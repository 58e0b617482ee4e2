"""k-fold cross-validation split by star: what a model setting scores on stars it never saw.

Why: the shipped models' validation figures also chose their epoch and test-time reversal, so they
are optimistic, and one validation shard of ~1,650 TCEs (50 vetting positives) gives a noisy AP.
Here the train and validation examples are pooled and dealt by star into k folds; each fold is
held out once while a model with the same settings trains on the others (its epoch and
test-time reversal chosen on a 10 % inner validation part, also split by star), and is scored on
the held-out fold only. The mean ± sd over folds is the figure to compare settings by.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable

import numpy as np

from .datasets import LabelledViews, kfold_by_star, split_by_star
from .evaluation import binary_metrics
from .networks import ModelConfig
from .training import TrainConfig, train_model
from .workflows import choose_test_time_reversal, model_scores

SUMMARY_METRICS = ("average_precision", "accuracy", "roc_auc", "precision", "recall")
INNER_VALIDATION = 0.1


def fold_parts(data: LabelledViews, folds: np.ndarray, fold: int, *, seed: int) -> tuple[LabelledViews, ...]:
    """(train, inner validation, held-out test) of ``fold``: no star in two of them."""
    held = np.flatnonzero(folds == fold)
    rest = np.flatnonzero(folds != fold)
    inner = (1.0 - INNER_VALIDATION, INNER_VALIDATION, 0.0)
    train, val, _ = split_by_star(data.star_ids[rest], fractions=inner, seed=seed + fold)
    return data.subset(rest[train]), data.subset(rest[val]), data.subset(held)


def run_fold(
    model_config: ModelConfig, data: LabelledViews, folds: np.ndarray, fold: int, train_config: TrainConfig,
    *, auto_reversal: bool = True,
) -> dict:
    """Train on every fold but ``fold``, score ``fold``: its row of the cross-validation table."""
    train, val, test = fold_parts(data, folds, fold, seed=train_config.seed)
    clock = time.perf_counter()
    result = train_model(copy.deepcopy(model_config), train, val, train_config)
    if auto_reversal:
        choose_test_time_reversal(result.model, val)
    metrics = binary_metrics(test.labels, model_scores(result.model, test).raw)
    return {
        "fold": fold, "n_train": len(train), "n_validation": len(val), "n_test": len(test),
        "positives_test": int(test.labels.sum()), "best_epochs": result.best_epochs,
        "test_time_reversal": bool(result.model.config.test_time_reversal), "seconds": round(time.perf_counter() - clock, 1),
        **{name: metrics[name] for name in SUMMARY_METRICS},
    }  # fmt: skip


def summarise(rows: list[dict]) -> dict[str, dict[str, float]]:
    """Mean and sample standard deviation of each metric over the folds."""
    summary = {}
    for name in SUMMARY_METRICS:
        values = np.array([row[name] for row in rows], dtype=float)
        summary[name] = {
            "mean": float(np.nanmean(values)),
            "sd": float(np.nanstd(values, ddof=1)) if len(values) > 1 else float("nan"),
        }
    return summary


def cross_validate(
    model_config: ModelConfig,
    data: LabelledViews,
    train_config: TrainConfig,
    *,
    k: int = 5,
    auto_reversal: bool = True,
    on_fold: Callable[[dict], None] | None = None,
) -> dict:
    """k-fold cross-validation by star of one model setting on ``data`` (train + validation pooled).

    Returns ``{"k", "seed", "split", "n", "positives", "folds": [row per fold], "summary":
    {metric: {"mean", "sd"}}}``; the folds are dealt with ``train_config.seed``.
    """
    folds = kfold_by_star(data.star_ids, k, seed=train_config.seed)
    rows = []
    for fold in range(k):
        rows.append(run_fold(model_config, data, folds, fold, train_config, auto_reversal=auto_reversal))
        if on_fold is not None:
            on_fold(rows[-1])
    return {
        "k": k, "seed": train_config.seed, "split": "by star (TIC/KIC), inner validation 10 % by star",
        "n": len(data), "positives": int(data.labels.sum()), "folds": rows, "summary": summarise(rows),
    }  # fmt: skip
