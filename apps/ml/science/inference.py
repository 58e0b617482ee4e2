"""Batched scoring of TCE views with a trained model; bad inputs raise, never score silently.

`score` is the one public boundary: it checks that every view the model needs is present, numeric,
finite and of the right length, that all views and scalars agree on the number of TCEs, then runs
the model in batches through an inference engine (`engines`: ONNX Runtime when installed, else
TorchScript + oneDNN, else the torch model itself; each checked against torch when built).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch

from .engines import ENGINES, PRECISIONS, engine_for
from .errors import InputValidationError
from .evaluation import sigmoid
from .networks import CandidateClassifier, ModelConfig


@dataclass
class Scores:
    """Per-TCE outputs, each float64 (n,).

    ``logits`` are the model's raw outputs, ``raw`` = sigmoid(logits) is the uncalibrated score and
    ``calibrated`` = sigmoid(logits / temperature) the temperature-scaled probability; ``engine``
    names the inference engine that computed them.
    """

    logits: np.ndarray
    raw: np.ndarray
    calibrated: np.ndarray
    engine: str = "torch"


def _as_rows(name: str, value: object, length: int) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise InputValidationError(f"view {name!r} is not numeric: {exc}") from exc
    if array.ndim == 1:
        array = array[None, :]
    if array.ndim != 2:
        raise InputValidationError(
            f"view {name!r} must be (n, {length}) or ({length},), got {array.shape}"
        )
    if array.shape[1] != length:
        raise InputValidationError(
            f"view {name!r} has length {array.shape[1]}, the model needs {length}"
        )
    bad = ~np.isfinite(array)
    if bad.any():
        rows = np.flatnonzero(bad.any(axis=1))
        raise InputValidationError(
            f"view {name!r} has {int(bad.sum())} NaN/infinite values in rows {rows[:10].tolist()}"
        )
    return np.ascontiguousarray(array)


def _scalar_matrix(config: ModelConfig, scalars: object, n: int) -> np.ndarray:
    k = len(config.scalar_names)
    if k == 0:
        return np.zeros((n, 0), np.float32)
    if scalars is None:
        raise InputValidationError(f"the model needs scalar features {config.scalar_names}")
    if isinstance(scalars, Mapping):
        missing = [s for s in config.scalar_names if s not in scalars]
        if missing:
            raise InputValidationError(f"missing scalar features {missing}")
        columns = [
            np.atleast_1d(np.asarray(scalars[s], dtype=np.float32)) for s in config.scalar_names
        ]
        if any(c.ndim != 1 or c.shape[0] != n for c in columns):
            raise InputValidationError(f"each scalar feature needs {n} values, one per TCE")
        matrix = np.stack(columns, axis=1)
    else:
        matrix = np.asarray(scalars, dtype=np.float32).reshape(-1, k) if np.size(scalars) else None
        if matrix is None or matrix.shape != (n, k):
            raise InputValidationError(
                f"scalars must have shape ({n}, {k}) for {config.scalar_names}"
            )
    if not np.all(np.isfinite(matrix)):
        raise InputValidationError("scalar features contain NaN or infinite values")
    return np.ascontiguousarray(matrix)


def validate_inputs(
    config: ModelConfig, views: Mapping[str, object], scalars: object = None
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Check and convert inputs for ``config``: views -> float32 (n, length), scalars -> (n, k).

    ``views`` maps view name -> array (n, length) or (length,) for one TCE; extra views are ignored.
    ``scalars`` is a mapping name -> (n,) or an array (n, k) in ``config.scalar_names`` order.

    Raises
    ------
    InputValidationError
        A missing view, wrong length, NaN/inf, non-numeric data, or disagreeing numbers of TCEs.
    """
    missing = [b.view for b in config.branches if b.view not in views]
    if missing:
        raise InputValidationError(
            f"missing views {missing}; the model needs {list(config.view_lengths())}"
        )
    checked = {b.view: _as_rows(b.view, views[b.view], b.length) for b in config.branches}
    counts = {name: v.shape[0] for name, v in checked.items()}
    if len(set(counts.values())) != 1:
        raise InputValidationError(f"views disagree on the number of TCEs: {counts}")
    n = next(iter(counts.values()))
    return checked, _scalar_matrix(config, scalars, n)


@torch.no_grad()
def score(
    model: CandidateClassifier,
    views: Mapping[str, object],
    scalars: object = None,
    *,
    temperature: float = 1.0,
    batch_size: int = 512,
    device: torch.device | str | None = None,
    precision: str = "float32",
    engine: str = "auto",
) -> Scores:
    """Score n TCEs in batches of ``batch_size``; see `validate_inputs` for the input forms.

    ``engine`` is one of `engines.ENGINES`: "auto" picks the fastest engine that runs the model here
    (float32 on the CPU: onnxruntime, then torchscript, then torch; built once per model and
    checked against torch). ``precision="bfloat16"`` runs the torch model under bfloat16 autocast:
    faster only on CPUs with native bfloat16 (AVX512_BF16/AMX), probabilities within ~0.02 of
    float32 (see docs/benchmarks.md). Returns `Scores` with logits, raw sigmoid scores and
    temperature-calibrated probabilities.
    """
    if precision not in PRECISIONS:
        raise InputValidationError(f"precision must be one of {PRECISIONS}, not {precision!r}")
    if engine not in ENGINES:
        raise InputValidationError(f"engine must be one of {ENGINES}, not {engine!r}")
    if not temperature > 0:
        raise InputValidationError(f"temperature must be positive, got {temperature}")
    if batch_size < 1:
        raise InputValidationError("batch_size must be at least 1")
    checked, matrix = validate_inputs(model.config, views, scalars)
    device = torch.device(device) if device is not None else next(model.parameters()).device
    if model.training:
        model.eval()
    runner = engine_for(model, engine=engine, precision=precision, device=device)
    n = matrix.shape[0]
    logits = np.empty(n, dtype=np.float64)
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        batch = {k: v[start:stop] for k, v in checked.items()}
        logits[start:stop] = runner.logits(model, batch, matrix[start:stop])
    return Scores(
        logits=logits,
        raw=sigmoid(logits),
        calibrated=sigmoid(logits / temperature),
        engine=runner.name,
    )
