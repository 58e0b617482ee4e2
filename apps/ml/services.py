"""Registering model versions and scoring TCEs with them."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
from django.db import transaction

from apps.catalog.models import TCE, Target
from apps.core.errors import InvalidInput, NotFound
from apps.core.files import atomic_path, resolve_data_path
from apps.jobs.models import Job
from apps.jobs.services import artifact_store
from apps.lightcurves.selectors import tce_views_latest
from apps.ml.models import ModelVersion, Prediction
from apps.ml.science.errors import MLScienceError as MLError
from apps.ml.science.inference import score
from apps.ml.science.registry import (
    DEFAULT_MODEL_NAMES,
    DEFAULT_MODELS_DIR,
    LoadedModel,
    load_model,
)

BATCH = 256


def modelversion_register(*, manifest_path: Path, job: Job | None = None, make_default: bool = False) -> ModelVersion:
    """Check a saved model (sha256, config) and record it; registering the same weights twice is a no-op."""
    try:
        loaded = load_model(manifest_path)
    except MLError as exc:
        raise InvalidInput(f"cannot register {manifest_path}: {exc}") from exc
    manifest = loaded.manifest
    with transaction.atomic():
        version = ModelVersion.objects.filter(name=manifest.name, weights_sha256=manifest.weights_sha256).first()
        if version is None:
            weights_path = Path(manifest_path).parent / manifest.weights_file
            artifact = artifact_store(
                key=f"model/{manifest.name}", kind="model_weights", source=weights_path, job=job, move=False,
                meta={"manifest": manifest.name},
            )
            stored_manifest = resolve_data_path(artifact.path).with_suffix(".json")
            with atomic_path(stored_manifest) as tmp:
                tmp.write_text(manifest.to_json())
            version = ModelVersion.objects.create(
                name=manifest.name, task=manifest.task, preset=manifest.preset,
                weights_sha256=manifest.weights_sha256, weights=artifact,
                manifest=json.loads(manifest.to_json()), metrics=manifest.metrics,
                temperature=manifest.temperature, created_by=job,
            )
        if make_default:
            ModelVersion.objects.filter(task=version.task, is_default=True).exclude(pk=version.pk).update(is_default=False)
            if not version.is_default:
                version.is_default = True
                version.save(update_fields=["is_default"])
    return version


def modelversion_register_shipped() -> list[ModelVersion]:
    """Register the trained models shipped in apps/ml/default_models as the default of their task."""
    versions = []
    for task, name in DEFAULT_MODEL_NAMES.items():
        manifest_path = DEFAULT_MODELS_DIR / f"{name}.json"
        if manifest_path.exists():
            versions.append(modelversion_register(manifest_path=manifest_path, make_default=True))
        del task
    return versions


def modelversion_resolve(*, name_or_id: str | int | None = None, task: str = "triage") -> ModelVersion:
    """A model version by id or name (newest), or the default of ``task``."""
    if name_or_id in (None, ""):
        version = ModelVersion.objects.filter(task=task, is_default=True).first()
        if version is None:
            modelversion_register_shipped()
            version = ModelVersion.objects.filter(task=task, is_default=True).first()
        if version is None:
            raise NotFound(f"no default model for task {task!r}: train one with manage.py train_model")
        return version
    if str(name_or_id).isdigit():
        version = ModelVersion.objects.filter(pk=int(name_or_id)).first()
    else:
        version = ModelVersion.objects.filter(name=str(name_or_id)).order_by("-created_at").first()
    if version is None:
        raise NotFound(f"no model version {name_or_id!r}")
    return version


@functools.lru_cache(maxsize=4)
def _loaded(version_id: int, sha256: str) -> LoadedModel:
    version = ModelVersion.objects.select_related("weights").get(pk=version_id)
    manifest_path = resolve_data_path(version.weights.path).with_suffix(".json")
    try:
        return load_model(manifest_path, device="auto")
    except MLError as exc:
        raise InvalidInput(f"model version {version} cannot be loaded: {exc}") from exc


def _scalars_for(version: ModelVersion, diagnostics: list[dict]) -> np.ndarray | None:
    names = version.manifest.get("config", {}).get("scalar_names", [])
    if not names:
        return None
    rows = []
    for diag in diagnostics:
        row = []
        for name in names:
            if name == "depth_change":
                # Yu et al.'s vetting feature: odd/even depth difference relative to its error.
                row.append(float(diag.get("odd_even_sigma") or 0.0))
            else:
                raise InvalidInput(f"model needs scalar {name!r}, which the pipeline does not provide")
        rows.append(row)
    return np.asarray(rows, dtype=np.float32)


def tces_score(
    *,
    tces: Iterable[TCE],
    version: ModelVersion,
    job: Job | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    check_cancelled: Callable[[], None] | None = None,
) -> dict:
    """Score TCEs that have views for the model's view preset; others are reported as skipped."""
    loaded = _loaded(version.pk, version.weights_sha256)
    branch_names = [b["view"] for b in version.manifest.get("config", {}).get("branches", [])]
    tce_list = list(tces)
    total, done, scored = len(tce_list), 0, 0
    skipped: dict[str, str] = {}
    for start in range(0, total, BATCH):
        if check_cancelled:
            check_cancelled()
        batch, views, diags, versions = [], {name: [] for name in branch_names}, [], []
        for tce in tce_list[start : start + BATCH]:
            latest = tce_views_latest(tce_id=tce.pk, preset=version.view_preset)
            if latest is None:
                skipped[tce.label] = f"no {version.view_preset} views: process the target first"
                continue
            arrays, artifact = latest
            missing = [n for n in branch_names if n not in arrays]
            if missing:
                skipped[tce.label] = f"views lack {missing}"
                continue
            batch.append(tce)
            versions.append(artifact.version)
            diags.append(artifact.meta.get("diagnostics", {}))
            for name in branch_names:
                views[name].append(arrays[name])
        if batch:
            try:
                scores = score(
                    loaded.model, {k: np.stack(v) for k, v in views.items()}, _scalars_for(version, diags),
                    temperature=version.temperature,
                )
            except MLError as exc:
                raise InvalidInput(f"scoring failed: {exc}") from exc
            with transaction.atomic():
                for tce, raw, calibrated, views_version in zip(batch, scores.raw, scores.calibrated, versions, strict=True):
                    Prediction.objects.update_or_create(
                        tce=tce, model_version=version, job=job,
                        defaults={"raw_score": float(raw), "probability": float(calibrated), "views_version": views_version},
                    )
            scored += len(batch)
        done = min(total, start + BATCH)
        if on_progress:
            on_progress(done, total)
    return {"model": str(version), "scored": scored, "skipped": skipped}


def infer_params_validate(params: dict) -> dict:
    """Exactly one of target_id, tce_ids or missing=true; an optional model name/id and task."""
    chosen = [k for k in ("target_id", "tce_ids", "missing") if params.get(k)]
    if len(chosen) != 1:
        raise InvalidInput("give exactly one of target_id, tce_ids or missing=true")
    clean: dict = {"model": params.get("model"), "task": params.get("task", "triage")}
    if clean["task"] not in ("triage", "vetting"):
        raise InvalidInput("task must be triage or vetting")
    if "target_id" in chosen:
        clean["target_id"] = int(params["target_id"])
        if not Target.objects.filter(pk=clean["target_id"]).exists():
            raise InvalidInput(f"target {clean['target_id']} does not exist")
    elif "tce_ids" in chosen:
        ids = [int(i) for i in params["tce_ids"]]
        if len(ids) > 100_000:
            raise InvalidInput("at most 100000 TCEs per job")
        clean["tce_ids"] = ids
    else:
        clean["missing"] = True
    modelversion_resolve(name_or_id=clean["model"], task=clean["task"])
    return clean


def infer_select_tces(params: dict, version: ModelVersion):  # noqa: ANN201 - a TCE queryset
    tces = TCE.objects.select_related("target").order_by("pk")
    if "target_id" in params:
        return tces.filter(target_id=params["target_id"])
    if "tce_ids" in params:
        return tces.filter(pk__in=params["tce_ids"])
    return tces.exclude(predictions__model_version=version)
