"""Training: augmentation, class weights, reproducibility, progress and cancellation, planted signal."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from apps.ml.science.errors import ConfigError, DatasetError, TrainingCancelled
from apps.ml.science.evaluation import average_precision
from apps.ml.science.training import (
    TrainConfig,
    WeightAverage,
    class_weights,
    predict_logits,
    reverse_time,
    to_tensors,
    train_model,
)

from .conftest import planted_views, tiny_config

FAST = {"batch_size": 32, "learning_rate": 3e-3, "num_threads": 1}


def fast(**overrides) -> TrainConfig:
    """Small, quick training settings (3 epochs unless overridden)."""
    return TrainConfig(**{**FAST, "epochs": 3, **overrides})


def test_it_reverses_only_the_flagged_rows_of_every_view() -> None:
    views = {"a": torch.arange(6.0).reshape(2, 3), "b": torch.arange(4.0).reshape(2, 2)}
    out = reverse_time(views, torch.tensor([True, False]))
    assert out["a"].tolist() == [[2, 1, 0], [3, 4, 5]] and out["b"].tolist() == [[1, 0], [2, 3]]


def test_it_weights_classes_so_each_carries_half_the_loss() -> None:
    w_neg, w_pos = class_weights(np.array([1, 0, 0, 0]))
    assert (w_neg * 3, w_pos * 1) == pytest.approx((2.0, 2.0))
    with pytest.raises(DatasetError, match="both classes"):
        class_weights(np.zeros(5))


def test_it_learns_a_planted_dip_well_above_chance() -> None:
    train, val = planted_views(300, 0), planted_views(100, 1)
    result = train_model(tiny_config(), train, val, fast(seed=3))
    views, scalars = to_tensors(val, result.model.config, torch.device("cpu"))
    assert average_precision(val.labels, predict_logits(result.model, views, scalars)) > 0.9


def test_it_reproduces_the_same_weights_with_the_same_seed() -> None:
    train, val = planted_views(120, 0), planted_views(40, 1)
    first = train_model(tiny_config(), train, val, fast(seed=7, epochs=1))
    second = train_model(tiny_config(), train, val, fast(seed=7, epochs=1))
    for a, b in zip(
        first.model.state_dict().values(), second.model.state_dict().values(), strict=True
    ):
        torch.testing.assert_close(a, b)


def test_it_trains_each_ensemble_member_from_its_own_seed() -> None:
    train, val = planted_views(120, 0), planted_views(40, 1)
    result = train_model(tiny_config(), train, val, fast(epochs=1, ensemble_size=2))
    first, second = (m.head[0].weight for m in result.model.members)
    assert len(result.history) == 2 and not torch.equal(first, second)


def test_it_reports_progress_up_to_the_total() -> None:
    calls = []
    train, val = planted_views(64, 0), planted_views(32, 1)
    train_model(tiny_config(), train, val, fast(epochs=2), on_progress=lambda *a: calls.append(a))
    assert calls[0][:2] == (1, 4) and calls[-1] == (4, 4, "done")
    assert [c[0] for c in calls] == sorted(c[0] for c in calls)


def test_it_stops_when_asked_to_cancel() -> None:
    asked = []
    train, val = planted_views(64, 0), planted_views(32, 1)

    def should_cancel() -> bool:
        asked.append(1)
        return len(asked) >= 2

    with pytest.raises(TrainingCancelled, match="batch 2 of 4"):
        train_model(tiny_config(), train, val, fast(epochs=2), should_cancel=should_cancel)


def test_it_fits_the_scalar_transform_on_the_training_set_only() -> None:
    train, val = planted_views(64, 0), planted_views(32, 1)
    for data, offset in ((train, 0.0), (val, 50.0)):
        data.scalars = np.sinh(np.random.default_rng(0).normal(offset, 1.0, (len(data), 1))).astype(
            np.float32
        )
        data.scalar_names = ("depth_change",)
    config = tiny_config(scalar_names=["depth_change"])
    result = train_model(config, train, val, fast(epochs=1))
    assert abs(result.model.config.scalar_center[0]) < 1.0


def test_it_moves_the_weight_average_a_fraction_of_the_way_and_swaps_back() -> None:
    net = torch.nn.Linear(3, 1)
    average = WeightAverage(net, decay=0.75)
    start = [p.detach().clone() for p in net.parameters()]
    with torch.no_grad():
        for p in net.parameters():
            p.add_(4.0)
    average.update()
    for a, s in zip(average.params, start, strict=True):
        torch.testing.assert_close(a, s + 0.25 * 4.0)  # reference: a + (1 - decay) (p - a)
    average.swap()
    torch.testing.assert_close(net.weight.detach(), start[0] + 1.0)
    average.swap()
    torch.testing.assert_close(net.weight.detach(), start[0] + 4.0)


def test_it_learns_with_smoothed_labels_and_averaged_fused_weights() -> None:
    train, val = planted_views(300, 0), planted_views(100, 1)
    tc = fast(seed=3, epochs=6, label_smoothing=0.1, ema_decay=0.8, fused_optimizer=True)
    result = train_model(tiny_config(), train, val, tc)
    views, scalars = to_tensors(val, result.model.config, torch.device("cpu"))
    assert average_precision(val.labels, predict_logits(result.model, views, scalars)) > 0.9


def test_it_keeps_the_averaged_weights_it_selected_on() -> None:
    train, val = planted_views(120, 0), planted_views(40, 1)
    result = train_model(tiny_config(), train, val, fast(epochs=2, ema_decay=0.5))
    views, scalars = to_tensors(val, result.model.config, torch.device("cpu"))
    ap = average_precision(val.labels, predict_logits(result.model, views, scalars))
    best = max(h["val_average_precision"] for h in result.history[0])
    assert ap == pytest.approx(best)


def test_it_rejects_smoothing_or_decay_outside_zero_to_one() -> None:
    with pytest.raises(ConfigError, match="label_smoothing"):
        TrainConfig(label_smoothing=1.0).validate()
    with pytest.raises(ConfigError, match="ema_decay"):
        TrainConfig(ema_decay=-0.1).validate()


def test_it_fits_a_log_scalar_transform_when_the_config_asks() -> None:
    train, val = planted_views(64, 0), planted_views(32, 1)
    for data in (train, val):
        data.scalars = np.full((len(data), 1), 0.01, np.float32)
        data.scalar_names = ("duration",)
    config = tiny_config(scalar_names=["duration"], scalar_transform="log")
    result = train_model(config, train, val, fast(epochs=1))
    assert result.model.config.scalar_center == pytest.approx([np.log(0.01)])
