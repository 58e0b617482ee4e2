"""k-fold cross-validation by star: folds never split a star, and each fold is scored only on stars
its model never saw."""

from __future__ import annotations

import numpy as np
import pytest

from apps.ml.science.crossval import fold_parts, summarise
from apps.ml.science.datasets import LabelledViews, kfold_by_star
from apps.ml.science.errors import DatasetError


def views_of(star_ids: np.ndarray) -> LabelledViews:
    n = len(star_ids)
    return LabelledViews(
        views={"global_view": np.arange(n, dtype=np.float32)[:, None] * np.ones((1, 5), np.float32)},
        scalars=np.zeros((n, 0), np.float32), scalar_names=(), labels=(np.arange(n) % 4 == 0).astype(np.float32),
        star_ids=np.asarray(star_ids, np.int64), tce_ids=np.array([f"t{i}" for i in range(n)]),
    )


def test_every_star_lies_in_one_fold_and_the_folds_are_balanced():
    rng = np.random.default_rng(0)
    stars = rng.integers(0, 300, 1000)  # many stars with several TCEs
    folds = kfold_by_star(stars, 5, seed=7)
    for star in np.unique(stars):
        assert len(set(folds[stars == star].tolist())) == 1
    sizes = np.bincount(folds, minlength=5)
    assert sizes.sum() == 1000 and sizes.max() - sizes.min() <= np.bincount(stars).max()
    assert np.array_equal(folds, kfold_by_star(stars, 5, seed=7))
    assert not np.array_equal(folds, kfold_by_star(stars, 5, seed=8))


def test_it_refuses_more_folds_than_stars():
    with pytest.raises(DatasetError, match="k-fold"):
        kfold_by_star(np.array([1, 1, 2]), 3)


def test_a_folds_train_validation_and_test_parts_share_no_star():
    rng = np.random.default_rng(1)
    data = views_of(rng.integers(0, 120, 400))
    folds = kfold_by_star(data.star_ids, 4, seed=0)
    seen_in_tests = []
    for fold in range(4):
        train, val, test = fold_parts(data, folds, fold, seed=0)
        parts = [set(p.star_ids.tolist()) for p in (train, val, test)]
        assert not (parts[0] & parts[1]) and not (parts[0] & parts[2]) and not (parts[1] & parts[2])
        assert len(train) + len(val) + len(test) == len(data) and len(val) > 0
        seen_in_tests += test.tce_ids.tolist()
    assert sorted(seen_in_tests) == sorted(data.tce_ids.tolist())  # each TCE held out exactly once


def test_the_summary_is_the_mean_and_sample_sd_over_folds():
    rows = [{"average_precision": a, "accuracy": 0.9, "roc_auc": 0.8, "precision": 0.5, "recall": 0.5} for a in (0.6, 0.8)]
    summary = summarise(rows)
    assert summary["average_precision"]["mean"] == pytest.approx(0.7)
    assert summary["average_precision"]["sd"] == pytest.approx(np.std([0.6, 0.8], ddof=1))
    assert summary["accuracy"]["sd"] == pytest.approx(0.0)
