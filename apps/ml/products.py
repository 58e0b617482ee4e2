"""ML products stored as job artifacts: a model's weights (one key per model name, a version per
distinct file). The only module that spells their key."""

from __future__ import annotations


def model_weights_key(name: str) -> str:
    """Artifact key of the weights of model ``name``."""
    return f"model/{name}"
