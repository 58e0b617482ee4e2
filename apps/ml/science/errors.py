"""Typed errors of the ML science package: every public function raises one of these on bad input."""

from __future__ import annotations


class MLScienceError(Exception):
    """Base class of every error raised on purpose by ``apps.ml.science``."""


class TFRecordError(MLScienceError):
    """A TFRecord file or a ``tf.train.Example`` inside it is truncated, corrupt or malformed."""


class DatasetError(MLScienceError):
    """Labelled views cannot be assembled (unknown label, missing feature, inconsistent lengths)."""


class ConfigError(MLScienceError):
    """A model or training configuration is invalid or names an unknown preset."""


class RegistryError(MLScienceError):
    """A saved model cannot be loaded: missing file, sha256 mismatch or weights that do not fit the config."""


class InputValidationError(MLScienceError):
    """Inputs to scoring are unusable: missing views, wrong lengths, NaN or infinite values."""


class EngineError(MLScienceError):
    """An inference engine cannot run a model here: not installed, unsupported layer, or disagrees with torch."""


class TrainingCancelled(MLScienceError):
    """Training stopped because ``should_cancel()`` returned True."""


class InjectionError(MLScienceError):
    """Bad parameters for an injected transit, eclipsing binary or noise model."""
