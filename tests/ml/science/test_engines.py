"""Inference engines: every fast engine gives the torch model's logits, falls back and never goes stale."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from apps.ml.science import engines
from apps.ml.science.engines import (
    EngineError,
    conv2d_equivalent,
    engine_for,
    max_logit_difference,
    probe_inputs,
)
from apps.ml.science.errors import InputValidationError
from apps.ml.science.inference import score
from apps.ml.science.networks import build_model
from apps.ml.science.registry import load_model

from .conftest import tiny_config

FAST = [
    pytest.param(
        "onnxruntime",
        marks=pytest.mark.skipif(
            not engines.onnxruntime_available(), reason="onnx/onnxruntime not installed"
        ),
    ),
    "torchscript",
]


def _model(preset: str = "yu2019_triage", seed: int = 0, **overrides) -> nn.Module:
    torch.manual_seed(seed)
    model = build_model(tiny_config(preset, **overrides)).eval()
    with torch.no_grad():  # larger weights than the default init, so logits are O(1..10)
        for p in model.parameters():
            p.mul_(3.0)
    return model


CONFIGS = {
    "triage": dict(preset="yu2019_triage"),
    "vetting, scalars, time reversal": dict(
        preset="yu2019_vetting", scalar_center=[0.2], scalar_scale=[1.5], test_time_reversal=True
    ),
    "exominer, prelu, ensemble of 2": dict(preset="exominer_lite", ensemble_size=2),
    "log scalars through dense layers": dict(
        preset="yu2019_vetting", scalar_transform="log", scalar_layers=[6, 4]
    ),
}


def _reference(model, views, scalars) -> np.ndarray:
    with torch.no_grad():
        tensors = {k: torch.from_numpy(v) for k, v in views.items()}
        return model(tensors, torch.from_numpy(scalars)).double().numpy()


@pytest.mark.parametrize("name", FAST)
@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
@pytest.mark.parametrize("n", [1, 3, 40])
def test_it_gives_the_logits_of_the_torch_model(name, config, n) -> None:
    model = _model(**config)
    views, scalars = probe_inputs(model.config, n, seed=n)
    expected = _reference(model, views, scalars)
    got = engine_for(model, engine=name).logits(model, views, scalars)
    assert np.abs(expected).max() > 0.1  # a test on all-zero logits would prove nothing
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.skipif(not engines.onnxruntime_available(), reason="onnx/onnxruntime not installed")
def test_onnxruntime_splits_a_batch_over_threads_without_changing_it() -> None:
    model = _model(**CONFIGS["vetting, scalars, time reversal"])
    views, scalars = probe_inputs(model.config, 3 * engines.SPLIT_MIN_ROWS + 7)
    split = engines.OnnxRuntimeEngine(model, threads=3)
    assert split.threads == 3
    np.testing.assert_allclose(
        split.logits(model, views, scalars), _reference(model, views, scalars), atol=1e-5
    )


def test_its_2d_twin_computes_what_the_1d_model_computes() -> None:
    model = _model(**CONFIGS["vetting, scalars, time reversal"])
    views, scalars = probe_inputs(model.config, 7)
    twin = conv2d_equivalent(model)
    assert any(isinstance(m, nn.Conv2d) for m in twin.modules())
    assert not any(isinstance(m, nn.Conv1d) for m in twin.modules())
    np.testing.assert_allclose(
        _reference(twin, views, scalars), _reference(model, views, scalars), rtol=1e-5, atol=1e-5
    )


def test_score_uses_a_fast_engine_and_agrees_with_torch() -> None:
    model = _model(**CONFIGS["vetting, scalars, time reversal"])
    views, scalars = probe_inputs(model.config, 40, seed=3)
    fast = score(model, views, scalars, batch_size=17)
    plain = score(model, views, scalars, engine="torch")
    assert fast.engine in ("onnxruntime", "torchscript") and plain.engine == "torch"
    np.testing.assert_allclose(fast.logits, plain.logits, rtol=1e-5, atol=1e-5)


def test_it_rebuilds_the_engine_when_weights_change_in_place() -> None:
    model = _model()
    views, scalars = probe_inputs(model.config, 16)
    before = score(model, views, scalars).logits
    with torch.no_grad():
        model.members[0].head[-1].bias.add_(2.0)  # what an optimizer step or load_state_dict does
    after = score(model, views, scalars)
    np.testing.assert_allclose(after.logits, before + 2.0, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(after.logits, _reference(model, views, scalars), atol=1e-5)


def test_it_rebuilds_the_engine_when_test_time_reversal_is_switched() -> None:
    model = _model()
    views, scalars = probe_inputs(model.config, 20)
    score(model, views, scalars)
    model.config.test_time_reversal = True
    np.testing.assert_allclose(
        score(model, views, scalars).logits, _reference(model, views, scalars), atol=1e-5
    )


def test_auto_falls_back_to_torch_for_a_layer_the_fast_engines_cannot_express() -> None:
    model = _model()
    model.members[0].columns["local_view"].net[1] = nn.Tanh()
    views, scalars = probe_inputs(model.config, 20)
    for name in ("onnxruntime", "torchscript"):
        with pytest.raises(EngineError):
            engine_for(model, engine=name)
    out = score(model, views, scalars)
    assert out.engine == "torch"
    np.testing.assert_allclose(out.logits, _reference(model, views, scalars), atol=1e-6)


def test_it_refuses_an_engine_that_disagrees_with_torch(monkeypatch) -> None:
    def off_by_one(self, model, views, scalars):
        return engines.TorchEngine(torch.device("cpu")).logits(model, views, scalars) + 1.0

    monkeypatch.setattr(engines.TorchScriptEngine, "logits", off_by_one)
    model = _model()
    with pytest.raises(EngineError, match="differ from torch"):
        engine_for(model, engine="torchscript")


def test_auto_takes_the_next_engine_when_onnxruntime_is_missing(monkeypatch) -> None:
    def missing(*args, **kwargs):
        raise EngineError("the onnxruntime package is not installed")

    monkeypatch.setattr(engines, "OnnxRuntimeEngine", missing)
    model = _model()
    views, scalars = probe_inputs(model.config, 20)
    assert score(model, views, scalars).engine == "torchscript"


def test_bfloat16_runs_on_the_torch_engine_and_a_named_fast_engine_refuses_it() -> None:
    model = _model()
    views, scalars = probe_inputs(model.config, 4)
    assert score(model, views, scalars, precision="bfloat16").engine == "torch"
    with pytest.raises(EngineError, match="float32 on the CPU only"):
        score(model, views, scalars, precision="bfloat16", engine="torchscript")


def test_it_refuses_an_unknown_engine() -> None:
    model = _model()
    views, scalars = probe_inputs(model.config, 2)
    with pytest.raises(InputValidationError, match="engine must be one of"):
        score(model, views, scalars, engine="tensorrt")


@pytest.mark.parametrize("task", ["triage", "vetting"])
@pytest.mark.parametrize("name", FAST)
def test_the_shipped_models_score_the_same_on_every_engine(task, name) -> None:
    model = load_model(task=task).model
    assert max_logit_difference(engine_for(model, engine=name), model, n=32) < 1e-4
