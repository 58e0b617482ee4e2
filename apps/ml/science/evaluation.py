"""Classifier metrics and calibration: AP, ROC AUC, accuracy/precision/recall, temperature scaling, ECE.

All functions take labels ``y`` (n,) in {0, 1} and scores (n,) — probabilities in [0, 1] or logits
where stated — validated once by `_check_scores`; ties in scores are handled exactly (a tied group
counts as one threshold), as in scikit-learn's definitions.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import expit, log_expit

from .errors import InputValidationError


def _check_scores(y: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.ascontiguousarray(y, dtype=np.float64).ravel()
    scores = np.ascontiguousarray(scores, dtype=np.float64).ravel()
    if y.shape != scores.shape:
        raise InputValidationError(f"labels {y.shape} and scores {scores.shape} differ in length")
    if y.size == 0:
        raise InputValidationError("no examples to evaluate")
    if not np.all((y == 0) | (y == 1)):
        raise InputValidationError("labels must be 0 or 1")
    if not np.all(np.isfinite(scores)):
        raise InputValidationError("scores contain NaN or infinite values")
    return y, scores


def _threshold_counts(y: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative true and false positives at each distinct score, scanning from the highest."""
    order = np.argsort(-scores, kind="mergesort")
    y, scores = y[order], scores[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(scores)), y.size - 1]
    tp = np.cumsum(y)[last_of_tie]
    fp = (last_of_tie + 1) - tp
    return tp, fp


def precision_recall_curve(y: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Precision and recall at every distinct threshold, from the highest score down; (m,), (m,)."""
    y, scores = _check_scores(y, scores)
    tp, fp = _threshold_counts(y, scores)
    positives = max(y.sum(), 1.0)
    return tp / (tp + fp), tp / positives


def average_precision(y: np.ndarray, scores: np.ndarray) -> float:
    """AP = sum over thresholds of (R_k - R_{k-1}) * P_k (no interpolation); NaN without positives."""
    y, scores = _check_scores(y, scores)
    if y.sum() == 0:
        return float("nan")
    precision, recall = precision_recall_curve(y, scores)
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def roc_curve(y: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """False- and true-positive rates at every distinct threshold, starting at (0, 0); (m+1,), (m+1,)."""
    y, scores = _check_scores(y, scores)
    tp, fp = _threshold_counts(y, scores)
    return np.r_[0.0, fp / max(y.size - y.sum(), 1.0)], np.r_[0.0, tp / max(y.sum(), 1.0)]


def roc_auc(y: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve (trapezoids; ties count one half); NaN if only one class is present."""
    y, scores = _check_scores(y, scores)
    if y.sum() in (0, y.size):
        return float("nan")
    fpr, tpr = roc_curve(y, scores)
    return float(np.trapezoid(tpr, fpr))


def binary_metrics(y: np.ndarray, probabilities: np.ndarray, *, threshold: float = 0.5) -> dict:
    """The issue's metric set: n, average_precision, accuracy, roc_auc, precision, recall, threshold.

    ``probabilities`` >= ``threshold`` count as positive. Precision is 0 when nothing is predicted
    positive; recall is NaN without positives.
    """
    y, p = _check_scores(y, probabilities)
    predicted = p >= threshold
    tp = float(np.sum(predicted & (y == 1)))
    n_pred, n_pos = float(predicted.sum()), float(y.sum())
    return {
        "n": int(y.size),
        "average_precision": average_precision(y, p),
        "accuracy": float(np.mean(predicted == (y == 1))),
        "roc_auc": roc_auc(y, p),
        "precision": tp / n_pred if n_pred else 0.0,
        "recall": tp / n_pos if n_pos else float("nan"),
        "threshold": float(threshold),
    }


def sigmoid(logits: np.ndarray) -> np.ndarray:
    """Numerically safe logistic function."""
    return expit(np.asarray(logits, dtype=np.float64))


def binary_nll(y: np.ndarray, logits: np.ndarray) -> float:
    """Mean binary cross-entropy of ``logits`` (natural log), computed stably in logit space."""
    y, logits = _check_scores(y, logits)
    return float(-np.mean(y * log_expit(logits) + (1 - y) * log_expit(-logits)))


def fit_temperature(
    y: np.ndarray, logits: np.ndarray, *, bounds: tuple[float, float] = (0.05, 20.0)
) -> float:
    """Temperature T > 0 minimising the NLL of ``sigmoid(logits / T)`` (Guo et al. 2017).

    Fit on the validation set only. T > 1 softens over-confident scores; the ranking (AP, AUC) is
    unchanged.
    """
    y, logits = _check_scores(y, logits)
    result = minimize_scalar(
        lambda log_t: binary_nll(y, logits / np.exp(log_t)),
        bounds=(np.log(bounds[0]), np.log(bounds[1])),
        method="bounded",
        options={"xatol": 1e-6},
    )
    return float(np.exp(result.x))


def reliability_diagram(y: np.ndarray, probabilities: np.ndarray, *, n_bins: int = 10) -> dict:
    """Equal-width probability bins: edges (n_bins+1,), and per bin count, mean score, positive fraction.

    Empty bins have NaN mean score and fraction.
    """
    y, p = _check_scores(y, probabilities)
    if n_bins < 1:
        raise InputValidationError("n_bins must be at least 1")
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    index = np.clip(np.digitize(p, edges[1:-1], right=False), 0, n_bins - 1)
    counts = np.bincount(index, minlength=n_bins).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_p = np.bincount(index, weights=p, minlength=n_bins) / counts
        frac = np.bincount(index, weights=y, minlength=n_bins) / counts
    return {
        "edges": edges,
        "count": counts.astype(np.int64),
        "mean_probability": mean_p,
        "fraction_positive": frac,
    }


def expected_calibration_error(
    y: np.ndarray, probabilities: np.ndarray, *, n_bins: int = 10
) -> float:
    """ECE = sum over bins of (count / n) * |fraction positive - mean probability| (equal-width bins)."""
    diagram = reliability_diagram(y, probabilities, n_bins=n_bins)
    filled = diagram["count"] > 0
    weights = diagram["count"][filled] / diagram["count"].sum()
    gaps = np.abs(diagram["fraction_positive"][filled] - diagram["mean_probability"][filled])
    return float(np.sum(weights * gaps))


def calibration_report(y: np.ndarray, logits: np.ndarray, *, n_bins: int = 10) -> dict:
    """Fit a temperature on (y, logits) and give ECE and reliability diagrams before and after."""
    temperature = fit_temperature(y, logits)
    before, after = sigmoid(logits), sigmoid(np.asarray(logits) / temperature)
    return {
        "temperature": temperature,
        "ece_before": expected_calibration_error(y, before, n_bins=n_bins),
        "ece_after": expected_calibration_error(y, after, n_bins=n_bins),
        "nll_before": binary_nll(y, logits),
        "nll_after": binary_nll(y, np.asarray(logits) / temperature),
        "reliability_before": reliability_diagram(y, before, n_bins=n_bins),
        "reliability_after": reliability_diagram(y, after, n_bins=n_bins),
    }
