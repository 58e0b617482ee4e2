"""One configurable multi-branch 1-D CNN for transit candidates, with presets chosen by name.

Each view (global, local, odd/even, secondary, centroid ...) goes through its own column of conv
blocks (AstroNet: per block ``block_size`` kernel-``kernel_size`` "same" convolutions with ReLU, then
a "valid" max-pool); the flattened columns and the (transformed) scalar features are concatenated
and go through ``hidden_layers`` dense layers to one logit. An ensemble of ``ensemble_size``
identical networks averages their logits (and, with ``test_time_reversal``, the logits of the
time-reversed views too). Presets:

* ``astronet``       Shallue & Vanderburg 2018: global 2001 (5 blocks, 16..256 filters, pool 5/2),
                     local 201 (2 blocks, pool 7/2), 4 x 512 dense; 9,940,193 parameters.
* ``yu2019_triage``  Yu et al. 2019 TESS triage: global 201, local 61, same columns, 4 x 512.
* ``yu2019_vetting`` Yu et al. 2019 vetting: adds a secondary view (61) and ``depth_change``.
* ``yu2019_triage_scalars``  ``yu2019_triage`` plus the TCE's period, duration, SNR and depth
                     (``TRANSIT_SCALARS``, TFRecord units) appended to the dense input, dropout 0.2.
* ``yu2019_vetting_transit``  ``yu2019_vetting``'s views (global, local, secondary) with the
                     ``TRANSIT_SCALARS`` instead of ``depth_change``, dropout 0.2: a vetting model
                     whose every input our pipeline computes for real TCEs (``depth_change`` needs
                     photometry in several apertures, which light-curve files do not carry).
* ``exominer_lite``  ExoMiner-style (Valizadegan et al. 2022) small branches: global/local flux,
                     odd/even, secondary, centroid views plus stellar and diagnostic scalars, PReLU.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch import nn

from .errors import ConfigError

ACTIVATIONS = {"relu": nn.ReLU, "prelu": nn.PReLU}
SCALAR_CLIP = 10.0  # transformed scalars are clipped to +-10 robust standard deviations
# log() of scalars below this floor (e.g. SN = 0) is log(floor); clipping then bounds them too.
SCALAR_LOG_FLOOR = 1e-6
SCALAR_TRANSFORMS = ("asinh", "log")


@dataclass
class BranchConfig:
    """Conv column of one view. Lengths in bins; the view is a 1-channel series of ``length``."""

    view: str
    length: int
    num_blocks: int
    block_size: int = 2
    initial_filters: int = 16
    filter_factor: int = 2
    kernel_size: int = 5
    pool_size: int = 5
    pool_stride: int = 2

    def filters(self) -> list[int]:
        """Number of filters of each block."""
        return [self.initial_filters * self.filter_factor**i for i in range(self.num_blocks)]

    def output_length(self) -> int:
        """Length of the series after the last pool ("same" convs keep it, each pool shrinks it)."""
        length = self.length
        for _ in range(self.num_blocks):
            length = (length - self.pool_size) // self.pool_stride + 1
        return length

    def flat_size(self) -> int:
        """Number of features the column hands to the dense layers."""
        return self.output_length() * self.filters()[-1]


@dataclass
class ModelConfig:
    """Everything needed to rebuild a model; serialisable to JSON.

    ``scalar_center``/``scalar_scale`` standardise ``asinh(scalar)`` (fitted on the training set by
    `fit_scalar_transform`), because raw features such as ``depth_change`` span 30 decades.
    ``scalar_transform="log"`` uses ``log(max(scalar, SCALAR_LOG_FLOOR))`` instead: right for
    positive quantities whose small values matter (durations of 0.001-3 d, where asinh is linear).
    ``scalar_layers`` are the widths of dense layers (with the model's activation) that each member
    applies to the standardised scalars before they join the view features; empty appends them
    as they are.
    """

    preset: str
    branches: list[BranchConfig]
    scalar_names: list[str] = field(default_factory=list)
    scalar_center: list[float] = field(default_factory=list)
    scalar_scale: list[float] = field(default_factory=list)
    hidden_layers: int = 4
    hidden_size: int = 512
    dropout: float = 0.0
    activation: str = "relu"
    ensemble_size: int = 1
    test_time_reversal: bool = False  # also score the time-reversed views and average the logits
    scalar_transform: str = "asinh"
    scalar_layers: list[int] = field(default_factory=list)

    def view_lengths(self) -> dict[str, int]:
        """View name -> required length in bins."""
        return {b.view: b.length for b in self.branches}

    def validate(self) -> ModelConfig:
        """Raise `ConfigError` if the configuration cannot build a working network; return self."""
        if not self.branches:
            raise ConfigError("a model needs at least one view branch")
        names = [b.view for b in self.branches]
        if len(set(names)) != len(names):
            raise ConfigError(f"duplicate view branches: {names}")
        for b in self.branches:
            if min(b.length, b.num_blocks, b.block_size, b.initial_filters, b.kernel_size) < 1:
                raise ConfigError(f"branch {b.view}: sizes must be positive")
            if b.kernel_size % 2 == 0:
                raise ConfigError(f"branch {b.view}: kernel_size must be odd for 'same' padding")
            if b.output_length() < 1:
                raise ConfigError(
                    f"branch {b.view}: length {b.length} is too short for {b.num_blocks} pools "
                    f"of size {b.pool_size} stride {b.pool_stride}"
                )
        k = len(self.scalar_names)
        if len(self.scalar_center) not in (0, k) or len(self.scalar_scale) not in (0, k):
            raise ConfigError("scalar_center and scalar_scale need one value per scalar name")
        if any(s <= 0 for s in self.scalar_scale):
            raise ConfigError("scalar_scale values must be positive")
        if self.scalar_transform not in SCALAR_TRANSFORMS:
            raise ConfigError(f"scalar_transform must be one of {SCALAR_TRANSFORMS}")
        if any(int(w) < 1 for w in self.scalar_layers):
            raise ConfigError("scalar_layers widths must be positive")
        if self.scalar_layers and not self.scalar_names:
            raise ConfigError("scalar_layers need scalar_names")
        if self.activation not in ACTIVATIONS:
            raise ConfigError(f"activation must be one of {sorted(ACTIVATIONS)}")
        if self.hidden_layers < 0 or self.hidden_size < 1 or not 0 <= self.dropout < 1:
            raise ConfigError("hidden_layers >= 0, hidden_size >= 1 and 0 <= dropout < 1 required")
        if self.ensemble_size < 1:
            raise ConfigError("ensemble_size must be at least 1")
        return self

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: Mapping) -> ModelConfig:
        try:
            data = dict(data)
            data["branches"] = [BranchConfig(**b) for b in data["branches"]]
            return cls(**data).validate()
        except (KeyError, TypeError) as exc:
            raise ConfigError(f"invalid model config: {exc}") from exc

    @classmethod
    def from_json(cls, text: str) -> ModelConfig:
        return cls.from_dict(json.loads(text))


def _astronet_columns(global_length: int, local_length: int) -> list[BranchConfig]:
    return [
        BranchConfig("global_view", global_length, num_blocks=5, pool_size=5),
        BranchConfig("local_view", local_length, num_blocks=2, pool_size=7),
    ]


def _exominer_lite() -> ModelConfig:
    def small(view: str, length: int, blocks: int, pool: int) -> BranchConfig:
        return BranchConfig(
            view, length, num_blocks=blocks, block_size=1, initial_filters=8, pool_size=pool
        )

    return ModelConfig(
        preset="exominer_lite",
        branches=[
            small("global_view", 301, 3, 5),
            small("local_view", 31, 2, 3),
            small("odd_view", 31, 2, 3),
            small("even_view", 31, 2, 3),
            small("secondary_view", 31, 2, 3),
            small("centroid_global_view", 301, 3, 5),
            small("centroid_local_view", 31, 2, 3),
        ],
        scalar_names=[
            "tce_steff",
            "tce_slogg",
            "tce_smet",
            "tce_sradius",
            "tce_smass",
            "tce_sdens",
            "tce_period",
            "tce_prad",
        ],
        hidden_layers=4,
        hidden_size=128,
        dropout=0.02,
        activation="prelu",
    )


# Yu et al. 2019 TFRecord names and units: period [d], duration [d], QLP BLS SNR, depth [ppm].
TRANSIT_SCALARS = ["Period", "Duration", "SN", "Transit_Depth"]

PRESETS = {
    "astronet": lambda: ModelConfig("astronet", _astronet_columns(2001, 201)),
    "yu2019_triage": lambda: ModelConfig("yu2019_triage", _astronet_columns(201, 61)),
    "yu2019_vetting": lambda: ModelConfig(
        "yu2019_vetting",
        [
            *_astronet_columns(201, 61),
            BranchConfig("secondary_view", 61, num_blocks=2, pool_size=7),
        ],
        scalar_names=["depth_change"],
    ),
    "exominer_lite": _exominer_lite,
    "yu2019_triage_scalars": lambda: ModelConfig(
        "yu2019_triage_scalars",
        _astronet_columns(201, 61),
        scalar_names=list(TRANSIT_SCALARS),
        dropout=0.2,
    ),
    "yu2019_vetting_transit": lambda: ModelConfig(
        "yu2019_vetting_transit",
        [
            *_astronet_columns(201, 61),
            BranchConfig("secondary_view", 61, num_blocks=2, pool_size=7),
        ],
        scalar_names=list(TRANSIT_SCALARS),
        dropout=0.2,
    ),
}


def preset_config(name: str, **overrides) -> ModelConfig:
    """The configuration of preset ``name`` with ``overrides`` applied to its top-level fields."""
    if name not in PRESETS:
        raise ConfigError(f"unknown preset {name!r}; expected one of {sorted(PRESETS)}")
    config = PRESETS[name]()
    for key, value in overrides.items():
        if not hasattr(config, key):
            raise ConfigError(f"unknown model config field {key!r}")
        setattr(config, key, value)
    return config.validate()


class ConvColumn(nn.Module):
    """Conv blocks of one view: (n, length) -> (n, flat_size)."""

    def __init__(self, branch: BranchConfig, activation: str) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = 1
        for filters in branch.filters():
            for _ in range(branch.block_size):
                layers.append(
                    nn.Conv1d(
                        channels, filters, branch.kernel_size, padding=branch.kernel_size // 2
                    )
                )
                layers.append(ACTIVATIONS[activation]())
                channels = filters
            layers.append(nn.MaxPool1d(branch.pool_size, branch.pool_stride))
        self.net = nn.Sequential(*layers)

    def forward(self, view: torch.Tensor) -> torch.Tensor:
        return self.net(view.unsqueeze(1)).flatten(1)


class MultiBranchCNN(nn.Module):
    """One network: a column per view, scalars appended, dense layers, one logit per example."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.view_names = [b.view for b in config.branches]
        self.columns = nn.ModuleDict(
            {b.view: ConvColumn(b, config.activation) for b in config.branches}
        )
        scalar_width = len(config.scalar_names)
        scalar_net: list[nn.Module] = []
        for size in config.scalar_layers:
            scalar_net += [nn.Linear(scalar_width, size), ACTIVATIONS[config.activation]()]
            scalar_width = size
        # Only models with scalar layers get this attribute, so older state dicts keep their keys.
        if scalar_net:
            self.scalar_net = nn.Sequential(*scalar_net)
        width = sum(b.flat_size() for b in config.branches) + scalar_width
        layers: list[nn.Module] = []
        for _ in range(config.hidden_layers):
            layers += [nn.Linear(width, config.hidden_size), ACTIVATIONS[config.activation]()]
            if config.dropout > 0:
                layers.append(nn.Dropout(config.dropout))
            width = config.hidden_size
        layers.append(nn.Linear(width, 1))
        self.head = nn.Sequential(*layers)

    def forward(self, views: Mapping[str, torch.Tensor], scalars: torch.Tensor) -> torch.Tensor:
        features = [self.columns[name](views[name]) for name in self.view_names]
        if scalars.shape[1]:
            net = getattr(self, "scalar_net", None)
            features.append(scalars if net is None else net(scalars))
        return self.head(torch.cat(features, dim=1)).squeeze(1)


class CandidateClassifier(nn.Module):
    """The served model: scalar transform + an ensemble of `MultiBranchCNN`; returns mean logits (n,).

    ``views`` maps view name -> float tensor (n, length); ``scalars`` is the raw float tensor (n, k)
    in the order of ``config.scalar_names`` (ignored when k = 0).
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config.validate()
        self.members = nn.ModuleList(MultiBranchCNN(config) for _ in range(config.ensemble_size))
        k = len(config.scalar_names)
        center = config.scalar_center or [0.0] * k
        scale = config.scalar_scale or [1.0] * k
        # Not persistent: the config is the source of truth, the state dict holds learnt weights only.
        self.register_buffer(
            "scalar_center", torch.tensor(center, dtype=torch.float32), persistent=False
        )
        self.register_buffer(
            "scalar_scale", torch.tensor(scale, dtype=torch.float32), persistent=False
        )

    def transform_scalars(self, scalars: torch.Tensor) -> torch.Tensor:
        """asinh (or log), standardise with the training-set center/scale, clip to +-SCALAR_CLIP."""
        if scalars.shape[1] == 0:
            return scalars
        if self.config.scalar_transform == "log":
            compressed = torch.log(scalars.clamp_min(SCALAR_LOG_FLOOR))
        else:
            compressed = torch.asinh(scalars)
        z = (compressed - self.scalar_center) / self.scalar_scale
        return z.clamp(-SCALAR_CLIP, SCALAR_CLIP)

    def forward(
        self, views: Mapping[str, torch.Tensor], scalars: torch.Tensor | None = None
    ) -> torch.Tensor:
        n = next(iter(views.values())).shape[0]
        if scalars is None:
            scalars = torch.zeros((n, 0), dtype=torch.float32, device=self.scalar_scale.device)
        z = self.transform_scalars(scalars)
        logits = [member(views, z) for member in self.members]
        if self.config.test_time_reversal:
            # Training augments with reversed views, so the reversed example is an equally valid
            # look at the same TCE; averaging both halves the variance of the score.
            flipped = {name: v.flip(1) for name, v in views.items()}
            logits += [member(flipped, z) for member in self.members]
        return logits[0] if len(logits) == 1 else torch.stack(logits).mean(0)


def build_model(config: ModelConfig) -> CandidateClassifier:
    """A freshly initialised model for ``config`` (call ``torch.manual_seed`` first to reproduce)."""
    return CandidateClassifier(config)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def fit_scalar_transform(
    scalars: np.ndarray, names: Sequence[str], transform: str = "asinh"
) -> tuple[list[float], list[float]]:
    """Median and robust scale (1.4826 MAD, at least 1e-3) of ``asinh(scalars)`` per column.

    ``scalars`` is an array (n, k) of training-set values; returns (center, scale) lists of length k.
    ``transform="log"`` fits ``log(max(scalars, SCALAR_LOG_FLOOR))`` instead (see `ModelConfig`).
    """
    if not names:
        return [], []
    if transform not in SCALAR_TRANSFORMS:
        raise ConfigError(f"scalar_transform must be one of {SCALAR_TRANSFORMS}")
    raw = np.asarray(scalars, dtype=np.float64).reshape(-1, len(names))
    values = np.log(np.maximum(raw, SCALAR_LOG_FLOOR)) if transform == "log" else np.arcsinh(raw)
    if values.shape[0] == 0:
        return [0.0] * len(names), [1.0] * len(names)
    center = np.median(values, axis=0)
    scale = np.maximum(1.4826 * np.median(np.abs(values - center), axis=0), 1e-3)
    return center.tolist(), scale.tolist()
