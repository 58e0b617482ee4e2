"""Model configurations, presets and shapes."""

from __future__ import annotations

import pytest
import torch

from apps.ml.science.errors import ConfigError
from apps.ml.science.models import (
    PRESETS,
    BranchConfig,
    ModelConfig,
    build_model,
    count_parameters,
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
    views = {b.view: torch.zeros(2, b.length) for b in config.branches}
    out = model(views, torch.tensor([[1e25], [1e30]]))
    assert torch.isfinite(out).all() and out[0] == out[1]


def test_it_rejects_unknown_presets_and_too_short_views() -> None:
    with pytest.raises(ConfigError, match="unknown preset"):
        preset_config("resnet")
    with pytest.raises(ConfigError, match="too short"):
        ModelConfig("x", [BranchConfig("global_view", 20, num_blocks=5)]).validate()
