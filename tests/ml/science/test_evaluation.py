"""Metrics and calibration against slow, obvious definitions."""

from __future__ import annotations

import numpy as np
import pytest

from apps.ml.science import evaluation as ev
from apps.ml.science.errors import InputValidationError


def slow_roc_auc(y: np.ndarray, s: np.ndarray) -> float:
    """Probability that a random positive outscores a random negative (ties count 1/2)."""
    pos, neg = s[y == 1], s[y == 0]
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def slow_average_precision(y: np.ndarray, s: np.ndarray) -> float:
    """Sum over distinct thresholds t (high to low) of precision(t) * (recall(t) - previous recall)."""
    total, previous = 0.0, 0.0
    for t in sorted(set(s.tolist()), reverse=True):
        predicted = s >= t
        tp = np.sum(predicted & (y == 1))
        recall = tp / y.sum()
        total += tp / predicted.sum() * (recall - previous)
        previous = recall
    return total


def _random_case(seed: int, n: int, ties: bool) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(float)
    y[0], y[1] = 1, 0
    s = rng.random(n) + 0.5 * y
    return y, (np.round(s, 1) if ties else s)


@pytest.mark.parametrize(
    "seed, n, ties", [(0, 50, False), (1, 200, False), (2, 60, True), (3, 7, True)]
)
def test_it_computes_roc_auc_like_the_pairwise_definition(seed: int, n: int, ties: bool) -> None:
    y, s = _random_case(seed, n, ties)
    assert ev.roc_auc(y, s) == pytest.approx(slow_roc_auc(y, s), abs=1e-12)


@pytest.mark.parametrize(
    "seed, n, ties", [(0, 50, False), (1, 200, False), (2, 60, True), (3, 7, True)]
)
def test_it_computes_average_precision_like_the_threshold_sum(
    seed: int, n: int, ties: bool
) -> None:
    y, s = _random_case(seed, n, ties)
    assert ev.average_precision(y, s) == pytest.approx(slow_average_precision(y, s), abs=1e-12)


def test_it_gives_perfect_scores_to_a_perfect_ranking() -> None:
    y = np.array([0, 0, 1, 1.0])
    assert ev.average_precision(y, np.array([0.1, 0.2, 0.8, 0.9])) == 1.0
    assert ev.roc_auc(y, np.array([0.1, 0.2, 0.8, 0.9])) == 1.0


def test_it_counts_accuracy_precision_and_recall_at_the_threshold() -> None:
    y = np.array([1, 1, 1, 0, 0, 0, 0, 0.0])
    p = np.array([0.9, 0.6, 0.2, 0.7, 0.1, 0.1, 0.3, 0.5])
    m = ev.binary_metrics(y, p, threshold=0.5)
    # predicted positive: 0.9, 0.6, 0.7, 0.5 -> TP 2, FP 2, FN 1, TN 3
    assert (m["n"], m["precision"], m["recall"], m["accuracy"]) == (8, 0.5, 2 / 3, 5 / 8)
    assert set(m) == {
        "n",
        "average_precision",
        "accuracy",
        "roc_auc",
        "precision",
        "recall",
        "threshold",
    }


def test_it_rejects_nan_scores_and_non_binary_labels() -> None:
    with pytest.raises(InputValidationError, match="NaN"):
        ev.average_precision(np.array([0, 1.0]), np.array([0.2, np.nan]))
    with pytest.raises(InputValidationError, match="0 or 1"):
        ev.roc_auc(np.array([0, 2.0]), np.array([0.2, 0.3]))


def test_it_recovers_a_planted_temperature() -> None:
    # Labels drawn from sigmoid(z); the model reports logits 3z (over-confident by 3x).
    rng = np.random.default_rng(4)
    z = rng.normal(0, 2, 20000)
    y = (rng.random(z.size) < ev.sigmoid(z)).astype(float)
    assert ev.fit_temperature(y, 3 * z) == pytest.approx(3.0, rel=0.05)


def test_it_lowers_the_calibration_error_of_an_overconfident_model() -> None:
    rng = np.random.default_rng(5)
    z = rng.normal(0, 2, 5000)
    y = (rng.random(z.size) < ev.sigmoid(z)).astype(float)
    report = ev.calibration_report(y, 4 * z)
    assert report["ece_after"] < 0.5 * report["ece_before"]
    assert report["nll_after"] < report["nll_before"]


def test_it_computes_ece_as_the_weighted_bin_gap() -> None:
    y = np.array([0, 1, 1, 1.0])
    p = np.array([0.05, 0.05, 0.95, 0.95])
    # bin [0, .1): mean p .05, fraction .5 -> gap .45; bin [.9, 1]: mean .95, fraction 1 -> .05
    assert ev.expected_calibration_error(y, p) == pytest.approx(0.5 * 0.45 + 0.5 * 0.05)
    diagram = ev.reliability_diagram(y, p)
    assert diagram["count"].sum() == 4 and diagram["count"][0] == 2 and diagram["count"][-1] == 2
