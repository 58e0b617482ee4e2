"""Saving and loading models: sha256 pinning, config/state-dict mismatches, devices, shipped models."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from apps.ml.science.errors import ConfigError, InputValidationError, RegistryError
from apps.ml.science.evaluation import binary_metrics
from apps.ml.science.inference import score
from apps.ml.science.networks import build_model, preset_config
from apps.ml.science.registry import (
    DEFAULT_MODEL_NAMES,
    DEFAULT_MODELS_DIR,
    ModelManifest,
    load_model,
    resolve_model_path,
    save_model,
    select_device,
    sha256_file,
)

from .conftest import tiny_config


@pytest.fixture()
def saved(tmp_path):
    torch.manual_seed(0)
    model = build_model(tiny_config())
    return model, save_model(
        model, tmp_path, "tiny", task="triage", temperature=1.5, dtype="float32"
    )


def test_it_reloads_the_exact_weights_and_temperature(saved) -> None:
    model, path = saved
    loaded = load_model(path)
    assert loaded.temperature == 1.5 and loaded.manifest.task == "triage"
    for key, value in model.state_dict().items():
        torch.testing.assert_close(loaded.model.state_dict()[key], value)


def test_it_records_the_sha256_of_the_weights(saved) -> None:
    _, path = saved
    manifest = ModelManifest.from_file(path)
    assert manifest.weights_sha256 == sha256_file(path.parent / manifest.weights_file)


def test_it_refuses_weights_whose_sha256_changed(saved) -> None:
    _, path = saved
    weights = path.parent / "tiny.pt"
    weights.write_bytes(weights.read_bytes() + b"\0")
    with pytest.raises(RegistryError, match="sha256 of tiny.pt"):
        load_model(path)


def test_it_refuses_weights_that_do_not_fit_the_config(saved) -> None:
    _, path = saved
    manifest = json.loads(path.read_text())
    manifest["config"]["hidden_size"] = 17
    path.write_text(json.dumps(manifest))
    with pytest.raises(RegistryError, match="shape mismatches"):
        load_model(path)


def test_it_refuses_weights_with_missing_tensors(saved, tmp_path) -> None:
    model, path = saved
    state = model.state_dict()
    state.pop(next(iter(state)))
    torch.save(state, tmp_path / "tiny.pt")
    manifest = json.loads(path.read_text())
    manifest["weights_sha256"] = sha256_file(tmp_path / "tiny.pt")
    path.write_text(json.dumps(manifest))
    with pytest.raises(RegistryError, match="missing"):
        load_model(path)


def test_it_halves_the_file_in_float16_and_scores_almost_the_same(tmp_path) -> None:
    torch.manual_seed(1)
    model = build_model(
        preset_config("yu2019_triage", hidden_layers=1)
    )  # big enough that tensors dominate the file
    small = load_model(save_model(model, tmp_path, "half", task="triage", dtype="float16"))
    full = load_model(save_model(model, tmp_path, "full", task="triage", dtype="float32"))
    assert (tmp_path / "half.pt").stat().st_size < 0.7 * (tmp_path / "full.pt").stat().st_size
    views = {
        b.view: np.random.default_rng(2).normal(size=(20, b.length)) for b in model.config.branches
    }
    np.testing.assert_allclose(
        score(small.model, views).raw, score(full.model, views).raw, atol=5e-3
    )


def test_it_picks_the_cpu_and_refuses_unknown_devices() -> None:
    assert select_device("cpu").type == "cpu"
    assert select_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ConfigError):
        select_device("tpu")


def test_it_names_the_shipped_models_when_a_name_is_unknown() -> None:
    with pytest.raises(RegistryError, match="shipped models"):
        load_model("no-such-model")


@pytest.mark.parametrize("task, floor", [("triage", 0.9), ("vetting", 0.5)])
def test_it_ships_default_models_that_load_and_score_the_validation_shard(
    demo_data, task, floor
) -> None:
    from apps.ml.science.datasets import load_tfrecord_views, yu2019_files

    loaded = load_model(task=task)
    assert loaded.manifest.name == DEFAULT_MODEL_NAMES[task]
    assert loaded.manifest_path.with_suffix(".pt").stat().st_size < 5 * 2**20
    config = loaded.model.config
    data = load_tfrecord_views(
        yu2019_files(demo_data, task, "val"),
        task=task,
        view_names=[b.view for b in config.branches],
        scalar_names=config.scalar_names,
    )
    metrics = binary_metrics(data.labels, score(loaded.model, data.views, data.scalars).raw)
    assert metrics["average_precision"] > floor
    # The manifest's validation metrics are what this model really scores.
    assert metrics["average_precision"] == pytest.approx(
        loaded.manifest.metrics["validation"]["average_precision"], abs=1e-3
    )


def test_it_ships_a_scalar_triage_model_that_reaches_the_goal_on_validation(demo_data) -> None:
    from apps.ml.science.datasets import load_tfrecord_views, yu2019_files

    loaded = load_model("yu2019_triage_scalars")
    config = loaded.model.config
    assert loaded.manifest.task == "triage" and config.scalar_names
    assert loaded.manifest_path.with_suffix(".pt").stat().st_size < 5 * 2**20
    data = load_tfrecord_views(
        yu2019_files(demo_data, "triage", "val"),
        task="triage",
        view_names=[b.view for b in config.branches],
        scalar_names=config.scalar_names,
    )
    metrics = binary_metrics(data.labels, score(loaded.model, data.views, data.scalars).raw)
    # The triage goal (Yu et al. 2019: AP 0.970, accuracy 0.974), on validation.
    assert metrics["average_precision"] >= 0.97 and metrics["accuracy"] >= 0.974
    # Without its scalars the model is refused rather than scored on zeros.
    with pytest.raises(InputValidationError, match="scalar"):
        score(loaded.model, data.views)


def test_each_mission_and_task_has_a_shipped_default() -> None:
    from apps.ml.science.registry import MISSIONS, MODEL_DEFAULTS, default_model_name

    assert default_model_name("triage", "tess") == "yu2019_triage_scalars"  # best validation AP
    assert default_model_name("triage", "kepler") == "yu2019_triage" == default_model_name("triage")
    assert default_model_name("vetting", "tess") == "yu2019_vetting_transit" == default_model_name("vetting", "kepler")
    assert all((DEFAULT_MODELS_DIR / f"{name}.json").is_file() for name in MODEL_DEFAULTS.values())
    assert {mission for mission, _ in MODEL_DEFAULTS} == set(MISSIONS)
    assert resolve_model_path(None, task="triage", mission="tess").stem == "yu2019_triage_scalars"
    with pytest.raises(RegistryError, match="no default model for task"):
        default_model_name("photometry", "tess")
