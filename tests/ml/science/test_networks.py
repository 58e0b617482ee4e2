"""Model configurations, presets and shapes."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from apps.ml.science.errors import ConfigError
from apps.ml.science.networks import (
    PRESETS,
    SCALAR_CLIP,
    BranchConfig,
    ModelConfig,
    build_model,
    count_parameters,
    fit_scalar_transform,
    preset_config,
)


def test_it_builds_astronet_with_the_published_parameter_count() -> None:
    # 9,940,193 = analytic count of Shallue & Vanderburg's local_global model (see cnn-anchors.md).
    assert count_parameters(build_model(preset_config("astronet"))) == 9_940_193


def test_it_flattens_astronet_columns_to_the_reference_sizes() -> None:
    config = preset_config("astronet")
    assert [b.flat_size() for b in config.branches] == [59 * 256, 46 * 32]


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_it_gives_one_logit_per_example_for_every_preset(preset: str) -> None:
    config = preset_config(preset, scalar_center=[], scalar_scale=[])
    model = build_model(config).eval()
    views = {b.view: torch.randn(3, b.length) for b in config.branches}
    scalars = torch.randn(3, len(config.scalar_names))
    assert model(views, scalars).shape == (3,)


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_it_round_trips_every_preset_through_json(preset: str) -> None:
    config = preset_config(preset)
    assert ModelConfig.from_json(config.to_json()) == config


def test_it_averages_member_logits_in_an_ensemble() -> None:
    torch.manual_seed(0)
    config = preset_config("yu2019_triage", ensemble_size=3, hidden_size=8, hidden_layers=1)
    model = build_model(config).eval()
    views = {b.view: torch.randn(4, b.length) for b in config.branches}
    none = torch.zeros(4, 0)
    expected = torch.stack([m(views, none) for m in model.members]).mean(0)
    torch.testing.assert_close(model(views), expected)


def test_it_is_invariant_to_huge_scalar_outliers_after_clipping() -> None:
    config = preset_config("yu2019_vetting", scalar_center=[0.0], scalar_scale=[1.0])
    model = build_model(config).eval()
    views = {b.view: torch.zeros(1, b.length) for b in config.branches}
    # One TCE per call: rows of one batch may take different SIMD paths and differ in the last bit.
    out = torch.cat([model(views, torch.tensor([[x]])) for x in (1e25, 1e30)])
    assert torch.isfinite(out).all() and out[0] == out[1]


def test_it_rejects_unknown_presets_and_too_short_views() -> None:
    with pytest.raises(ConfigError, match="unknown preset"):
        preset_config("resnet")
    with pytest.raises(ConfigError, match="too short"):
        ModelConfig("x", [BranchConfig("global_view", 20, num_blocks=5)]).validate()


def test_it_standardises_the_log_of_scalars_floored_and_clipped() -> None:
    config = preset_config(
        "yu2019_vetting",
        scalar_transform="log",
        scalar_center=[math.log(2.0)],
        scalar_scale=[0.5],
    )
    model = build_model(config)
    raw = torch.tensor([[2.0], [2.0 * math.e], [0.0]])
    z = model.transform_scalars(raw)
    # log(2) -> 0, one e-fold -> 1 / 0.5, zero -> log(1e-6) far below the clip
    torch.testing.assert_close(z, torch.tensor([[0.0], [2.0], [-SCALAR_CLIP]]))


def test_it_fits_log_center_and_scale_on_training_values() -> None:
    values = np.exp(np.array([[0.0], [1.0], [2.0], [3.0], [4.0]]))
    center, scale = fit_scalar_transform(values, ["period"], "log")
    assert center == pytest.approx([2.0]) and scale == pytest.approx([1.4826])
    with pytest.raises(ConfigError, match="scalar_transform"):
        fit_scalar_transform(values, ["period"], "sqrt")


def test_it_runs_scalars_through_their_own_dense_layers_when_asked() -> None:
    config = preset_config(
        "yu2019_triage",
        scalar_names=["a", "b", "c"],
        scalar_layers=[8, 4],
        hidden_size=16,
        hidden_layers=1,
    )
    model = build_model(config).eval()
    member = model.members[0]
    assert [m.out_features for m in member.scalar_net if isinstance(m, torch.nn.Linear)] == [8, 4]
    assert member.head[0].in_features == sum(b.flat_size() for b in config.branches) + 4
    views = {b.view: torch.randn(5, b.length) for b in config.branches}
    assert model(views, torch.rand(5, 3)).shape == (5,)
    with pytest.raises(ConfigError, match="scalar_layers need scalar_names"):
        preset_config("yu2019_triage", scalar_layers=[8])


def test_it_reads_configs_written_before_the_scalar_options_existed() -> None:
    old = preset_config("yu2019_vetting").to_dict()
    del old["scalar_transform"], old["scalar_layers"]
    config = ModelConfig.from_dict(old)
    assert (config.scalar_transform, config.scalar_layers) == ("asinh", [])
    assert "members.0.scalar_net.0.weight" not in build_model(config).state_dict()
