"""Save and load trained models: a weights file plus a JSON manifest that pins it by sha256.

On disk a model ``NAME`` is two files in one folder::

    NAME.pt     torch state dict (``torch.save``), float16 or float32 tensors
    NAME.json   manifest: name, task, preset, model config, weights file name + sha256 + dtype,
                training data files (+ sha256), training config and seed, validation metrics,
                calibration temperature

`load_model` refuses a weights file whose sha256 differs from the manifest, and weights that do not
fit the config (missing, unexpected or mis-shaped tensors), with a message that says which.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from .errors import ConfigError, RegistryError
from .networks import CandidateClassifier, ModelConfig, build_model

DEFAULT_MODELS_DIR = Path(__file__).resolve().parent.parent / "default_models"
#: The default of each task when the mission is unknown or has no entry in ``MODEL_DEFAULTS``.
DEFAULT_MODEL_NAMES = {"triage": "yu2019_triage", "vetting": "yu2019_vetting_transit"}
#: The shipped default per (mission, task): the model the site scores a TCE with when none is named.
#: TESS triage: the shipped triage model with the best validation AP on the Yu et al. 2019 validation
#: shard (yu2019_triage_scalars 0.9715 against yu2019_triage 0.9450); its 5-fold cross-validation by
#: star is on its card. Vetting (every mission): yu2019_vetting_transit, whose inputs our pipeline
#: computes (yu2019_vetting needs depth_change, which it cannot), and which has the higher validation
#: AP too (0.727 against 0.702). Kepler and K2: no Kepler-cadence model is shipped (the
#: injection-trained one is not, see the README), so the views-only model, which carries no TESS survey
#: priors in scalar inputs; its cards say it was trained on TESS and the site warns on those scores.
MODEL_DEFAULTS: dict[tuple[str, str], str] = {
    ("tess", "triage"): "yu2019_triage_scalars",
    ("kepler", "triage"): "yu2019_triage",
    ("k2", "triage"): "yu2019_triage",
}
#: The missions whose TCEs the classifiers score (GALEX has no TCEs).
MISSIONS = ("kepler", "k2", "tess")
#: How the defaults above were chosen, for the model cards.
DEFAULT_CHOICE = (
    "Defaults are chosen by validation average precision on the Yu et al. 2019 TESS validation shard "
    "(1,657 TCEs); each card also shows its 5-fold cross-validation by star where it was run. TESS "
    "triage: yu2019_triage_scalars (AP 0.9715) over yu2019_triage (0.9450). Kepler and K2: no "
    "Kepler-cadence model is shipped (the injection-trained one is not), so they get the views-only "
    "yu2019_triage, trained on TESS. Vetting: yu2019_vetting_transit (AP 0.727, inputs our pipeline "
    "computes) over yu2019_vetting (0.702, needs depth_change, which light-curve files cannot give)."
)
WEIGHT_DTYPES = {"float16": torch.float16, "float32": torch.float32}


@dataclass
class ModelManifest:
    """What `save_model` writes next to the weights (see module docstring)."""

    name: str
    task: str
    preset: str
    config: dict
    weights_file: str
    weights_sha256: str
    weights_dtype: str = "float32"
    temperature: float = 1.0
    created: str = ""
    training: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)
    calibration: dict = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True, default=_json_default) + "\n"

    @classmethod
    def from_file(cls, path: Path) -> ModelManifest:
        try:
            return cls(**json.loads(path.read_text()))
        except (OSError, ValueError, TypeError) as exc:
            raise RegistryError(f"cannot read model manifest {path}: {exc}") from exc


@dataclass
class LoadedModel:
    """A model ready to score: in eval mode on ``device``, with its manifest and temperature."""

    model: CandidateClassifier
    manifest: ModelManifest
    manifest_path: Path
    device: torch.device

    @property
    def temperature(self) -> float:
        return float(self.manifest.temperature)


def _json_default(value: object) -> object:
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def data_manifest(paths: Iterable[str | Path]) -> list[dict]:
    """File name, size in bytes and sha256 of each training/validation data file."""
    return [
        {"file": Path(p).name, "bytes": Path(p).stat().st_size, "sha256": sha256_file(p)}
        for p in paths
    ]


def view_dir_manifest(directory: str | Path) -> list[dict]:
    """One entry for a folder of per-TCE ``.npz`` views: file count, total bytes and one sha256 over
    the sorted (name, sha256) pairs, so a model records exactly which views it saw without listing
    thousands of files."""
    files = sorted(Path(directory).glob("*.npz"))
    digest = hashlib.sha256()
    for path in files:
        digest.update(f"{path.name}\0{sha256_file(path)}\n".encode())
    return [
        {
            "file": f"{Path(directory).name}/*.npz ({len(files)} files)",
            "bytes": sum(path.stat().st_size for path in files),
            "sha256": digest.hexdigest(),
        }
    ]


def select_device(preference: str = "auto") -> torch.device:
    """``"cpu"``, ``"cuda"`` (error if absent) or ``"auto"`` (CUDA when available, else CPU)."""
    if preference == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if preference == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' requested but no CUDA device is available")
    if preference not in ("cpu", "cuda"):
        raise ConfigError(f"device must be 'auto', 'cpu' or 'cuda', not {preference!r}")
    return torch.device(preference)


def save_model(
    model: CandidateClassifier,
    directory: str | Path,
    name: str,
    *,
    task: str,
    temperature: float = 1.0,
    training: dict | None = None,
    metrics: dict | None = None,
    calibration: dict | None = None,
    dtype: str = "float16",
) -> Path:
    """Write ``NAME.pt`` and ``NAME.json`` into ``directory``; return the manifest path.

    ``dtype="float16"`` halves the file (scores change by ~1e-3; report metrics of the saved
    model, i.e. after `load_model`).
    """
    if dtype not in WEIGHT_DTYPES:
        raise ConfigError(f"dtype must be one of {sorted(WEIGHT_DTYPES)}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    weights = directory / f"{name}.pt"
    state = {
        k: v.detach().to("cpu", WEIGHT_DTYPES[dtype]).contiguous()
        for k, v in model.state_dict().items()
    }
    torch.save(state, weights)
    manifest = ModelManifest(
        name=name,
        task=task,
        preset=model.config.preset,
        config=model.config.to_dict(),
        weights_file=weights.name,
        weights_sha256=sha256_file(weights),
        weights_dtype=dtype,
        temperature=float(temperature),
        created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        training=training or {},
        metrics=metrics or {},
        calibration=calibration or {},
    )
    path = directory / f"{name}.json"
    path.write_text(manifest.to_json())
    return path


def default_model_name(task: str, mission: str | None = None) -> str:
    """The shipped default model of ``task`` for TCEs of ``mission`` (None: mission unknown)."""
    if task not in DEFAULT_MODEL_NAMES:
        raise RegistryError(f"no default model for task {task!r}; tasks: {sorted(DEFAULT_MODEL_NAMES)}")
    return MODEL_DEFAULTS.get((mission or "", task), DEFAULT_MODEL_NAMES[task])


def resolve_model_path(
    name_or_path: str | Path | None, *, task: str | None = None, mission: str | None = None
) -> Path:
    """Manifest path for a manifest/weights path, a folder's model, a shipped model name, or a task.

    ``None`` with ``task`` gives the shipped default model of that task (for ``mission`` if given).
    """
    if name_or_path is None:
        name_or_path = default_model_name(str(task), mission)
    path = Path(name_or_path)
    candidates = [path, path.with_suffix(".json"), DEFAULT_MODELS_DIR / f"{name_or_path}.json"]
    if path.is_dir() and task in DEFAULT_MODEL_NAMES:
        candidates.insert(0, path / f"{DEFAULT_MODEL_NAMES[task]}.json")
    for candidate in candidates:
        if candidate.is_file() and candidate.suffix == ".json":
            return candidate
    shipped = sorted(p.stem for p in DEFAULT_MODELS_DIR.glob("*.json"))
    raise RegistryError(f"no model manifest at {name_or_path!r} (shipped models: {shipped})")


def load_model(
    name_or_path: str | Path | None = None,
    *,
    task: str | None = None,
    mission: str | None = None,
    device: str = "cpu",
) -> LoadedModel:
    """Load a saved model after checking its sha256 and that the weights fit its config.

    Raises
    ------
    RegistryError
        Missing files, a sha256 mismatch, or a state dict that does not match the config.
    """
    manifest_path = resolve_model_path(name_or_path, task=task, mission=mission)
    manifest = ModelManifest.from_file(manifest_path)
    weights = manifest_path.parent / manifest.weights_file
    if not weights.is_file():
        raise RegistryError(f"weights file {weights} named by {manifest_path.name} is missing")
    actual = sha256_file(weights)
    if actual != manifest.weights_sha256:
        raise RegistryError(
            f"sha256 of {weights.name} is {actual}, manifest {manifest_path.name} expects "
            f"{manifest.weights_sha256}: the weights file was changed or replaced"
        )
    try:
        config = ModelConfig.from_dict(manifest.config)
    except ConfigError as exc:
        raise RegistryError(f"{manifest_path.name}: {exc}") from exc
    model = build_model(config)
    state = torch.load(weights, map_location="cpu", weights_only=True)
    _check_state(model, state, weights.name)
    model.load_state_dict({k: v.float() for k, v in state.items()})
    target = select_device(device)
    return LoadedModel(
        model=model.to(target).eval(), manifest=manifest, manifest_path=manifest_path, device=target
    )


def _check_state(model: CandidateClassifier, state: dict, label: str) -> None:
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    found = {k: tuple(v.shape) for k, v in state.items()}
    missing = sorted(set(expected) - set(found))
    unexpected = sorted(set(found) - set(expected))
    shapes = sorted(k for k in set(expected) & set(found) if expected[k] != found[k])
    if missing or unexpected or shapes:
        details = []
        if missing:
            details.append(f"missing {missing[:5]}{' ...' if len(missing) > 5 else ''}")
        if unexpected:
            details.append(f"unexpected {unexpected[:5]}{' ...' if len(unexpected) > 5 else ''}")
        if shapes:
            k = shapes[0]
            details.append(
                f"{len(shapes)} shape mismatches, e.g. {k}: file {found[k]} vs config {expected[k]}"
            )
        raise RegistryError(f"weights {label} do not match the model config: " + "; ".join(details))


def update_manifest(manifest_path: str | Path, **fields: object) -> ModelManifest:
    """Set top-level manifest ``fields`` (metrics, calibration, temperature, training) and rewrite it."""
    path = Path(manifest_path)
    manifest = ModelManifest.from_file(path)
    for key, value in fields.items():
        if not hasattr(manifest, key) or key in ("weights_file", "weights_sha256", "config"):
            raise RegistryError(f"manifest field {key!r} cannot be updated")
        setattr(manifest, key, value)
    path.write_text(manifest.to_json())
    return manifest
