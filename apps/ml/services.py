"""Registering model versions and scoring TCEs with them."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath

import numpy as np
from django.db import transaction

from apps.catalog.models import TCE, Target
from apps.catalog.services import tce_scores_set
from apps.core.bounds import params_validate
from apps.core.errors import InvalidInput, NotFound
from apps.core.storage import product_local_path, product_replace
from apps.jobs.fanout import AwaitChildren
from apps.jobs.models import Artifact, Job
from apps.jobs.services import artifact_local_path, artifact_store, job_children_enqueue
from apps.lightcurves.selectors import tce_views_latest
from apps.ml.models import ModelVersion, Prediction
from apps.ml.params import InferParams, TrainParams
from apps.ml.products import model_weights_key
from apps.ml.science.errors import MLScienceError as MLError
from apps.ml.science.inference import score
from apps.ml.science.registry import (
    DEFAULT_MODEL_NAMES,
    DEFAULT_MODELS_DIR,
    MISSIONS,
    LoadedModel,
    load_model,
)
from apps.ml.selectors import default_missions, default_version

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
                key=model_weights_key(manifest.name), kind="model_weights", source=weights_path, job=job, move=False,
                meta={"manifest": manifest.name},
            )
            # The manifest beside its weights, wherever products are stored (apps/core/storage.py).
            product_replace(_manifest_name(artifact), manifest.to_json().encode())
            version = ModelVersion.objects.create(
                name=manifest.name, task=manifest.task, preset=manifest.preset,
                weights_sha256=manifest.weights_sha256, weights=artifact,
                manifest=json.loads(manifest.to_json()), metrics=manifest.metrics,
                temperature=manifest.temperature, created_by=job,
            )
        if not version.metrics.get("curves"):
            curves = validation_curves(loaded)
            if curves:
                version.metrics = {**version.metrics, "curves": curves}
                version.save(update_fields=["metrics"])
        _refresh_domain(version, manifest)
        _refresh_cross_validation(version, manifest)
        if make_default:
            ModelVersion.objects.filter(task=version.task, is_default=True).exclude(pk=version.pk).update(is_default=False)
            if not version.is_default:
                version.is_default = True
                version.save(update_fields=["is_default"])
                scores_publish_defaults()
    return version


def _refresh_domain(version: ModelVersion, manifest) -> None:  # noqa: ANN001 - a ModelManifest
    """Give a version registered before its card recorded a training domain the manifest's domain."""
    domain = manifest.training.get("domain")
    if domain and (version.manifest.get("training") or {}).get("domain") != domain:
        training = {**(version.manifest.get("training") or {}), "domain": domain}
        version.manifest = {**version.manifest, "training": training}
        version.save(update_fields=["manifest"])


def _refresh_cross_validation(version: ModelVersion, manifest) -> None:  # noqa: ANN001 - a ModelManifest
    """Cross-validation figures recorded in the manifest after the weights were registered
    (``train_model --cv K --cv-into``) reach the card: the weights are the same, the figures new."""
    figures = manifest.metrics.get("cross_validation")
    if figures and version.metrics.get("cross_validation") != figures:
        version.metrics = {**version.metrics, "cross_validation": figures}
        version.manifest = {**version.manifest, "metrics": {**(version.manifest.get("metrics") or {}), "cross_validation": figures}}
        version.save(update_fields=["metrics", "manifest"])


#: The task whose default model's probability is the catalogue's ``TCE.score`` (lists sort by it).
SCORE_TASK = "triage"


def served_missions(version: ModelVersion) -> list[str]:
    """The missions whose TCEs take ``TCE.score`` from ``version`` (it is their triage default)."""
    return default_missions(version) if version.task == SCORE_TASK else []


def scores_publish(*, version: ModelVersion, tce_ids: Iterable[int] | None = None) -> int:
    """Copy ``version``'s newest probability per TCE into ``TCE.score`` for the missions it is the
    triage default of (`default_version`).

    ``tce_ids``: only these TCEs (just scored); None: every TCE of those missions (the default
    changed), TCEs the model never scored get no score. Returns rows written.
    """
    missions = served_missions(version)
    if not missions:
        return 0
    newest = Prediction.objects.filter(model_version=version, tce__mission__in=missions)
    if tce_ids is not None:
        newest = newest.filter(tce_id__in=list(tce_ids))
    rows = list(newest.order_by("tce_id", "-created_at", "-id").distinct("tce_id").values_list("tce_id", "probability"))
    ids, scores = [r[0] for r in rows], [r[1] for r in rows]
    every_mission = set(missions) == set(MISSIONS)
    if tce_ids is None and not every_mission:
        stale = TCE.objects.filter(mission__in=missions, score__isnull=False).exclude(
            pk__in=Prediction.objects.filter(model_version=version).values("tce_id")
        )
        for pk in stale.values_list("pk", flat=True):
            ids.append(pk)
            scores.append(None)
    return tce_scores_set(tce_ids=ids, scores=scores, replace_all=tce_ids is None and every_mission)


def scores_publish_defaults() -> int:
    """Republish ``TCE.score`` from every mission's triage default (after defaults changed)."""
    versions = {v.pk: v for m in MISSIONS if (v := default_version(SCORE_TASK, m)) is not None}
    return sum(scores_publish(version=v) for v in versions.values())


def _thin(x: np.ndarray, y: np.ndarray, points: int = 200) -> dict[str, list[float]]:
    keep = np.unique(np.linspace(0, x.size - 1, min(points, x.size)).astype(int))
    return {"x": [round(float(v), 5) for v in x[keep]], "y": [round(float(v), 5) for v in y[keep]]}


def validation_curves(loaded: LoadedModel) -> dict:
    """ROC and precision-recall curves on the validation shard named in the manifest, when present here.

    Returns {} when the model was not trained on the Yu et al. shards of the demo folder.
    """
    from django.conf import settings

    from apps.ml.science.datasets import yu2019_files
    from apps.ml.science.evaluation import precision_recall_curve, roc_curve
    from apps.ml.science.workflows import load_labelled, scores_for

    names = {item["file"] for item in loaded.manifest.training.get("data", {}).get("validation", [])}
    if not names:
        return {}
    try:
        files = [f for f in yu2019_files(settings.GAIA_DEMO_DATA, loaded.manifest.task, "val") if f.name in names]
        if not files:
            return {}
        data = load_labelled(loaded.model.config, task=loaded.manifest.task, tfrecords=files)
        scores = scores_for(loaded, data)
    except MLError:
        return {}
    fpr, tpr = roc_curve(data.labels, scores.raw)
    precision, recall = precision_recall_curve(data.labels, scores.raw)
    roc = _thin(np.asarray(fpr), np.asarray(tpr))
    pr = _thin(np.asarray(recall), np.asarray(precision))
    return {"roc": {"fpr": roc["x"], "tpr": roc["y"]}, "pr": {"recall": pr["x"], "precision": pr["y"]}}


def modelversion_register_shipped() -> list[ModelVersion]:
    """Register every trained model shipped in apps/ml/default_models.

    The task defaults (``DEFAULT_MODEL_NAMES``) become the default of their task; the others are
    registered so their card is visible and they can be chosen by name; those the per-mission table
    (``MODEL_DEFAULTS``, e.g. ``yu2019_triage_scalars`` for TESS triage) names then serve their mission
    (`default_version`), and ``TCE.score`` is republished from every mission's default.
    """
    default_paths = [DEFAULT_MODELS_DIR / f"{name}.json" for name in DEFAULT_MODEL_NAMES.values()]
    versions = [
        modelversion_register(manifest_path=path, make_default=True)
        for path in default_paths
        if path.exists()
    ]
    for path in sorted(DEFAULT_MODELS_DIR.glob("*.json")):
        if path not in default_paths:
            versions.append(modelversion_register(manifest_path=path, make_default=False))
    scores_publish_defaults()
    return versions


def modelversion_resolve(
    *, name_or_id: str | int | None = None, task: str = "triage", mission: str | None = None
) -> ModelVersion:
    """A model version by id or name (newest), or the default of ``task`` for ``mission``."""
    if name_or_id in (None, ""):
        version = default_version(task, mission)
        if version is None:
            modelversion_register_shipped()
            version = default_version(task, mission)
        if version is None:
            raise NotFound(f"no default model for task {task!r}: train one with manage.py train_model")
        return version
    text = str(name_or_id)
    if text.isascii() and text.isdigit():  # int() of other digits ("²") fails or surprises
        version = ModelVersion.objects.filter(pk=int(text)).first() if len(text) <= 19 else None
    else:
        version = ModelVersion.objects.filter(name=str(name_or_id)).order_by("-created_at").first()
    if version is None:
        raise NotFound(f"no model version {name_or_id!r}")
    return version


@functools.lru_cache(maxsize=4)
def _loaded(version_id: int, sha256: str) -> LoadedModel:
    version = ModelVersion.objects.select_related("weights").get(pk=version_id)
    try:
        # Weights and manifest side by side in one local folder (in the download cache on S3).
        with artifact_local_path(version.weights), product_local_path(_manifest_name(version.weights)) as manifest_path:
            return load_model(manifest_path, device="auto")
    except (MLError, FileNotFoundError) as exc:
        raise InvalidInput(f"model version {version} cannot be loaded: {exc}") from exc


def _manifest_name(weights: Artifact) -> str:
    """The stored manifest of a model's weights artifact: the weights' name with ``.json``."""
    return str(PurePosixPath(weights.path).with_suffix(".json"))


# Scalar features a model may read, from TCE columns, in the units of the Yu et al. 2019 TFRecords
# the models were trained on: Period [d], Duration [d] (QLP durations; ours are in hours),
# Transit_Depth [ppm], SN (transit signal-to-noise; QLP's BLS SNR, the catalogue's model SNR here).
TCE_SCALARS: dict[str, tuple[str, Callable[[TCE], float | None]]] = {
    "Period": ("period_days", lambda t: t.period_days),
    "Duration": (
        "duration_hours",
        lambda t: None if t.duration_hours is None else t.duration_hours / 24.0,
    ),
    "Transit_Depth": ("depth_ppm", lambda t: t.depth_ppm),
    "SN": ("snr", lambda t: t.snr),
}


def _scalar_names(version: ModelVersion) -> list[str]:
    """The scalar features a model needs; refuses features no TCE column provides.

    e.g. Yu et al.'s ``depth_change`` (large- minus small-aperture depth over the scatter) needs
    photometry in several apertures, which Kepler/TESS light-curve files do not carry. Refusing is
    better than feeding a look-alike and returning a silently wrong score.
    """
    names = version.manifest.get("config", {}).get("scalar_names", [])
    unknown = [n for n in names if n not in TCE_SCALARS]
    if unknown:
        raise InvalidInput(
            f"model {version.name} needs the scalar feature(s) {unknown} (first: {unknown[0]!r}), "
            "which the light-curve pipeline does not compute; score with a views-only model "
            "(the triage default)"
        )
    return names


def _tce_scalars(tce: TCE, names: list[str]) -> tuple[list[float], str]:
    """A TCE's values of ``names`` (see TCE_SCALARS), or ([], why not) when a column is empty."""
    values = []
    for name in names:
        column, read = TCE_SCALARS[name]
        value = read(tce)
        if value is None or not np.isfinite(value):
            return [], f"the model needs {name}, but the TCE has no {column}"
        values.append(float(value))
    return values, ""


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
    scalar_names = _scalar_names(version)
    tce_list = list(tces)
    total, done, scored = len(tce_list), 0, 0
    skipped: dict[str, str] = {}
    for start in range(0, total, BATCH):
        if check_cancelled:
            check_cancelled()
        batch, views, scalars, versions = [], {name: [] for name in branch_names}, [], []
        for tce in tce_list[start : start + BATCH]:
            row, why = _tce_scalars(tce, scalar_names)
            if why:
                skipped[tce.label] = why
                continue
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
            scalars.append(row)
            for name in branch_names:
                views[name].append(arrays[name])
        if batch:
            try:
                scores = score(
                    loaded.model, {k: np.stack(v) for k, v in views.items()},
                    np.array(scalars, dtype=np.float32).reshape(len(batch), len(scalar_names)),
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
                scores_publish(version=version, tce_ids=[tce.pk for tce in batch])
            scored += len(batch)
        done = min(total, start + BATCH)
        if on_progress:
            on_progress(done, total)
    return {"model": str(version), "model_version": version.pk, "scored": scored, "skipped": skipped}


def infer_params_validate(params: dict) -> dict:
    """Check a scoring request (``InferParams``): the target exists and the model resolves."""
    clean = params_validate(InferParams, params, what="infer")
    if clean.target_id is not None and not Target.objects.filter(pk=clean.target_id).exists():
        raise InvalidInput(f"target {clean.target_id} does not exist")
    modelversion_resolve(name_or_id=clean.model, task=clean.task)
    out: dict = {"model": clean.model, "task": clean.task}
    if clean.target_id:
        out["target_id"] = clean.target_id
    elif clean.tce_ids:
        out["tce_ids"] = clean.tce_ids
    else:
        out["missing"] = True
        if clean.batch_size:
            out["batch_size"] = clean.batch_size
    return out


def infer_plan(params: dict) -> list[tuple[ModelVersion, object]]:
    """(model version, TCE queryset) pairs a scoring request runs: the named model on every selected
    TCE, or, with no model named, each mission's default (`default_version`) on that mission's TCEs."""
    if params.get("model") not in (None, ""):
        version = modelversion_resolve(name_or_id=params["model"], task=params["task"])
        return [(version, infer_select_tces(params, version))]
    missions: dict[int, tuple[ModelVersion, list[str]]] = {}
    for mission in MISSIONS:
        version = modelversion_resolve(task=params["task"], mission=mission)
        missions.setdefault(version.pk, (version, []))[1].append(mission)
    return [(v, infer_select_tces(params, v).filter(mission__in=names)) for v, names in missions.values()]


def infer_fan_out(*, job: Job, plan: list[tuple[ModelVersion, object]]) -> None:
    """Split a catalogue-wide scoring run into child ``infer`` jobs of ``batch_size`` TCEs each (the TCEs
    each model has not scored, by id) and hand the job over to them (``AwaitChildren``)."""
    size = job.params["batch_size"]
    batches = []
    for version, tces in plan:
        ids = list(tces.values_list("pk", flat=True))
        batches += [{"tce_ids": ids[start:start + size], "model": version.pk, "task": job.params["task"]}
                    for start in range(0, len(ids), size)]
    if not batches:
        return
    children = job_children_enqueue(parent=job, kind="infer", batches=batches)
    raise AwaitChildren(len(children))


def infer_select_tces(params: dict, version: ModelVersion):  # noqa: ANN201 - a TCE queryset
    tces = TCE.objects.select_related("target").order_by("pk")
    if "target_id" in params:
        return tces.filter(target_id=params["target_id"])
    if "tce_ids" in params:
        return tces.filter(pk__in=params["tce_ids"])
    return tces.exclude(predictions__model_version=version)


def train_params_validate(params: dict) -> dict:
    """Check a training request (``TrainParams``: task, preset, epochs, seed, ensemble) before it is queued."""
    from apps.ml.science.networks import PRESETS

    clean = params_validate(TrainParams, params, what="train_model")
    clean.preset = clean.preset or f"yu2019_{clean.task}"
    if clean.preset not in PRESETS:
        raise InvalidInput(f"unknown model preset {clean.preset!r}; choose from {sorted(PRESETS)}")
    return clean.model_dump()


def model_train(
    *,
    params: dict,
    job: Job | None = None,
    on_progress: Callable[[int, int, str], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> ModelVersion:
    """Train on the Yu et al. 2019 shards of the demo folder, select on validation, register the model
    (the workflow the ``train_model`` command runs too: ``science.workflows``)."""
    from django.conf import settings

    from apps.core.files import data_root
    from apps.ml.science.networks import preset_config
    from apps.ml.science.training import TrainConfig
    from apps.ml.science.workflows import train_and_save, yu2019_training_data

    config = preset_config(params["preset"])
    try:
        data = yu2019_training_data(
            config, params["task"], settings.GAIA_DEMO_DATA, max_examples=params.get("max_examples")
        )
        out = data_root() / "models" / (f"job{job.pk}" if job else "manual")
        manifest = train_and_save(
            config, data,
            TrainConfig(epochs=params["epochs"], seed=params["seed"], ensemble_size=params["ensemble"]),
            out_dir=out, name=f"{params['preset']}_seed{params['seed']}", task=params["task"],
            on_progress=on_progress, should_cancel=should_cancel,
        )
    except MLError as exc:
        if type(exc).__name__ == "TrainingCancelled":
            from apps.jobs.runner import JobCancelled

            raise JobCancelled(str(exc)) from exc
        raise InvalidInput(f"training failed: {exc}") from exc
    return modelversion_register(manifest_path=manifest, job=job, make_default=params["make_default"])
