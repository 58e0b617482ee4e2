"""Small synthetic view sets and tiny model configs shared by the ML science tests."""

from __future__ import annotations

import numpy as np

from apps.ml.science.datasets import LabelledViews
from apps.ml.science.networks import preset_config


def tiny_config(preset: str = "yu2019_triage", **overrides):
    """A preset shrunk for fast tests: few filters, one small dense layer."""
    config = preset_config(preset, hidden_layers=1, hidden_size=16, **overrides)
    for branch in config.branches:
        branch.initial_filters, branch.filter_factor, branch.block_size = 4, 1, 1
    return config.validate()


def planted_views(
    n: int, seed: int, *, global_length: int = 201, local_length: int = 61
) -> LabelledViews:
    """Views with a transit-like dip (label 1) or without (label 0), in Gaussian noise."""
    rng = np.random.default_rng(seed)
    labels = (rng.random(n) < 0.4).astype(np.float32)
    views = {}
    for name, length in (("global_view", global_length), ("local_view", local_length)):
        x = np.linspace(-1, 1, length)
        dip = -np.exp(-0.5 * (x / 0.08) ** 2)
        views[name] = (rng.normal(0, 0.3, (n, length)) + labels[:, None] * dip).astype(np.float32)
    return LabelledViews(
        views=views,
        scalars=np.zeros((n, 0), np.float32),
        scalar_names=(),
        labels=labels,
        star_ids=np.arange(n),
        tce_ids=np.array([f"t{i}" for i in range(n)]),
    )
