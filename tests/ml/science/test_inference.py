"""Scoring: batching does not change results; bad inputs raise clear errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from apps.ml.science.errors import InputValidationError
from apps.ml.science.inference import score
from apps.ml.science.networks import build_model

from .conftest import tiny_config


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return build_model(
        tiny_config("yu2019_vetting", scalar_center=[0.0], scalar_scale=[1.0])
    ).eval()


def _views(n: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    return {
        "global_view": rng.normal(size=(n, 201)),
        "local_view": rng.normal(size=(n, 61)),
        "secondary_view": rng.normal(size=(n, 61)),
    }


def test_it_gives_the_same_scores_in_any_batch_size(model) -> None:
    views, scalars = _views(37), {"depth_change": np.linspace(-1, 1, 37)}
    one = score(model, views, scalars, batch_size=1)
    many = score(model, views, scalars, batch_size=512)
    np.testing.assert_allclose(one.logits, many.logits, rtol=1e-5, atol=1e-6)


def test_it_calibrates_with_the_temperature(model) -> None:
    out = score(model, _views(5), {"depth_change": np.zeros(5)}, temperature=2.0)
    np.testing.assert_allclose(out.calibrated, 1 / (1 + np.exp(-out.logits / 2)))
    np.testing.assert_allclose(out.raw, 1 / (1 + np.exp(-out.logits)))


def test_it_scores_a_single_tce_given_as_1d_views(model) -> None:
    views = {k: v[0] for k, v in _views(3).items()}
    single = score(model, views, {"depth_change": np.array([0.3])})
    batch = score(model, _views(3), {"depth_change": np.full(3, 0.3)})
    assert single.raw.shape == (1,)
    np.testing.assert_allclose(single.logits[0], batch.logits[0], rtol=1e-5)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda v, s: v.update(local_view=np.zeros((4, 60))), "length 60, the model needs 61"),
        (
            lambda v, s: v["global_view"].__setitem__((2, 5), np.nan),
            r"NaN/infinite values in rows \[2\]",
        ),
        (lambda v, s: v.pop("secondary_view"), "missing views"),
        (lambda v, s: v.update(local_view=np.zeros((3, 61))), "disagree on the number"),
        (
            lambda v, s: s.update(depth_change=np.array([np.inf, 0, 0, 0])),
            "scalar features contain NaN",
        ),
        (lambda v, s: s.pop("depth_change"), "missing scalar"),
    ],
)
def test_it_refuses_bad_inputs_with_a_clear_message(model, mutate, message) -> None:
    views, scalars = _views(4), {"depth_change": np.zeros(4)}
    mutate(views, scalars)
    with pytest.raises(InputValidationError, match=message):
        score(model, views, scalars)


def test_it_scores_in_bfloat16_close_to_float32(model) -> None:
    views, scalars = _views(16), {"depth_change": np.zeros(16)}
    exact = score(model, views, scalars).raw
    fast = score(model, views, scalars, precision="bfloat16").raw
    np.testing.assert_allclose(fast, exact, atol=0.02)


def test_it_refuses_an_unknown_precision(model) -> None:
    with pytest.raises(InputValidationError, match="precision"):
        score(model, _views(2), {"depth_change": np.zeros(2)}, precision="int8")
