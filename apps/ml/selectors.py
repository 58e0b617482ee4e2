"""Reads for models and predictions."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import numpy as np
from django.db.models import OuterRef, QuerySet, Subquery

from apps.core.errors import InvalidInput, NotFound
from apps.ml.models import ModelVersion, Prediction


def modelversion_list() -> QuerySet[ModelVersion]:
    return ModelVersion.objects.select_related("weights", "created_by").order_by("task", "-is_default", "-created_at")


def modelversion_get(*, version_id: int) -> ModelVersion:
    try:
        return ModelVersion.objects.select_related("weights").get(pk=version_id)
    except ModelVersion.DoesNotExist as exc:
        raise NotFound(f"model version {version_id} does not exist") from exc


def default_version(task: str = "triage", mission: str | None = None) -> ModelVersion | None:
    """The model that scores ``task`` for TCEs of ``mission`` when none is named.

    The task's default (``is_default``), except that while it is the shipped one, the shipped
    per-mission table (``registry.MODEL_DEFAULTS``) picks the model of a mission when that model is
    registered. A model the team makes default (``make_default``) serves every mission.
    """
    from apps.ml.science.registry import DEFAULT_MODEL_NAMES, default_model_name

    base = ModelVersion.objects.filter(task=task, is_default=True).first()
    if mission is None or base is None or base.name != DEFAULT_MODEL_NAMES.get(task):
        return base
    name = default_model_name(task, mission)
    if name == base.name:
        return base
    return ModelVersion.objects.filter(task=task, name=name).order_by("-created_at").first() or base


def latest_score_subquery(version: ModelVersion | None):  # noqa: ANN201 - a Subquery
    """Newest calibrated probability of each TCE (OuterRef pk) by ``version``."""
    return Subquery(
        Prediction.objects.filter(tce=OuterRef("pk"), model_version=version)
        .order_by("-created_at")
        .values("probability")[:1]
    )


def predictions_for_tce(*, tce_id: int) -> QuerySet[Prediction]:
    return Prediction.objects.filter(tce_id=tce_id).select_related("model_version", "job").order_by("-created_at")


@dataclass(frozen=True)
class TrainingDomain:
    """Where a model's training light curves came from: mission, cadence and the range of TCE periods
    (None: unknown)."""

    mission: str | None
    cadence: str | None
    description: str
    period_days: tuple[float, float] | None = None


#: The labelled TESS views of Yu et al. 2019 (TFRecord shards ``train-00000-of-00008`` ...): QLP
#: light curves from 30-minute full-frame images; the shipped cards also record their period range.
YU2019_DOMAIN = TrainingDomain("tess", "30min", "TESS 30-min full-frame images (Yu et al. 2019)")
UNKNOWN_DOMAIN = TrainingDomain(None, None, "unrecorded training data")
_SHARD = re.compile(r"(train|val|test)-\d{5}-of-\d{5}")


def training_domain(version: ModelVersion) -> TrainingDomain:
    """The mission and cadence a model was trained on: declared in its manifest
    (``training.domain``: mission, cadence, description) or recognised from its data files."""
    training = version.manifest.get("training") or {}
    declared = training.get("domain")
    if isinstance(declared, dict) and declared.get("mission"):
        periods = declared.get("period_days")
        return TrainingDomain(
            declared["mission"], declared.get("cadence"), declared.get("description") or declared["mission"],
            (float(periods[0]), float(periods[1])) if isinstance(periods, list) and len(periods) == 2 else None,
        )
    files = [entry.get("file", "") for entries in (training.get("data") or {}).values() for entry in entries]
    if files and all(_SHARD.fullmatch(name) for name in files):
        return YU2019_DOMAIN
    return UNKNOWN_DOMAIN


def domain_mismatch(
    version: ModelVersion, *, mission: str, cadences: set[str], period_days: float | None = None
) -> str | None:
    """Why ``version`` may not suit a TCE of ``mission`` and ``period_days`` with light curves at
    ``cadences``, or None: a score outside the training domain is an extrapolation."""
    domain = training_domain(version)
    if domain.mission is None:
        return None
    if domain.mission != mission:
        return f"trained on {domain.description}, not on {mission.upper()} data"
    if domain.cadence and cadences and domain.cadence not in cadences:
        return f"trained on {domain.description}; this target's light curves are {', '.join(sorted(cadences))} cadence"
    low, high = domain.period_days or (None, None)
    if period_days is not None and low is not None and not low <= period_days <= high:
        return f"trained on periods {low:g}–{high:g} d; this TCE's period is {period_days:g} d"
    return None


def tce_cadences(*, target_id: int) -> set[str]:
    from apps.catalog.selectors import lightcurve_list

    return set(lightcurve_list(target_id=target_id).values_list("cadence", flat=True))


def tce_domain_warning(version: ModelVersion, tce, *, cadences: set[str] | None = None) -> str | None:  # noqa: ANN001
    """`domain_mismatch` of ``version`` for a TCE (its mission, period and target's cadences)."""
    if cadences is None:
        cadences = tce_cadences(target_id=tce.target_id)
    return domain_mismatch(version, mission=tce.mission, cadences=cadences, period_days=tce.period_days)


def default_missions(version: ModelVersion) -> list[str]:
    """The missions whose TCEs ``version`` scores by default (`default_version`), e.g. for its card."""
    from apps.ml.science.registry import MISSIONS

    return [m for m in MISSIONS if getattr(default_version(version.task, m), "pk", None) == version.pk]


@dataclass(frozen=True)
class ScoreSource:
    """The model behind a TCE's catalogue score (``TCE.score``) and why it may not suit the TCE."""

    version: ModelVersion
    warning: str | None


def score_source(tce, *, cache: dict | None = None, task: str = "triage") -> ScoreSource | None:  # noqa: ANN001
    """Which model made ``TCE.score`` (the default of ``task`` for the TCE's mission) and its domain
    warning; None when there is no such model. ``cache`` (a dict kept by the caller) saves the
    per-mission and per-target queries over a page of TCEs."""
    cache = {} if cache is None else cache
    key = ("version", task, tce.mission)
    if key not in cache:
        cache[key] = default_version(task, tce.mission)
    version = cache[key]
    if version is None:
        return None
    target_key = ("cadences", tce.target_id)
    if target_key not in cache:
        cache[target_key] = tce_cadences(target_id=tce.target_id)
    return ScoreSource(version, tce_domain_warning(version, tce, cadences=cache[target_key]))


def default_prediction(*, tce_id: int, task: str = "triage", mission: str | None = None) -> Prediction | None:
    """The newest score of the TCE by the default model of ``task`` for ``mission``, or None."""
    version = default_version(task, mission)
    if version is None:
        return None
    return (
        Prediction.objects.filter(tce_id=tce_id, model_version=version)
        .select_related("model_version").order_by("-created_at").first()
    )


#: MES bins of the injection-recovery curve on the model card.
MES_EDGES = (0, 4, 6, 8, 10, 12, 15, 20, 30, 50, 100)


def injection_recovery(*, version: ModelVersion) -> dict | None:
    """Binned recall (search + this model) against injected MES, from ``make bench``'s run.

    Shown only when the run was made with exactly these weights (sha256 recorded by the benchmark).
    """
    import json

    import numpy as np
    from django.conf import settings

    from apps.ml.science.injection import christiansen_efficiency

    path = settings.BASE_DIR / "docs" / "ml" / "injection_recovery.json"
    try:
        result = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if result.get("model", {}).get("weights_sha256") != version.weights_sha256:
        return None
    rows = [r for r in result.get("injections", []) if r.get("kind", "planet") == "planet" and r.get("mes") is not None]
    mes, recall, counts = [], [], []
    for low, high in zip(MES_EDGES[:-1], MES_EDGES[1:], strict=True):
        inside = [r for r in rows if low <= r["mes"] < high]
        if inside:
            mes.append((low + high) / 2)
            recall.append(sum(bool(r.get("recovered")) for r in inside) / len(inside))
            counts.append(len(inside))
    if not mes:
        return None
    return {"mes": mes, "recall": recall, "n": counts, "kepler": christiansen_efficiency(np.asarray(mes)).tolist(),
            "false_positives": result.get("false_positives", {})}


def labels_snapshot_views(*, labels_dir, view_names: list[str], view_lengths: dict[str, int], task: str,  # noqa: ANN001
                          view_preset: str = "yu2019"):  # noqa: ANN201 - (LabelledViews, data entries, snapshot id)
    """Labelled views for training from a labels snapshot (``manage.py export_labels``).

    One example per TCE: people's row when there is one, else a catalogue row (present only when the
    export included that source). Labels map to 0/1 with ``PEOPLE_LABELS[task]``. The views are those
    our pipeline stored for ``view_preset``: the version the label was made on when it was that
    preset, else the newest. Returns the data, the manifest entries naming the snapshot file and the
    views artifacts used (count, bytes, one sha256 over their (TCE, version, sha256)), and the snapshot id.
    """
    import hashlib
    from pathlib import Path

    import pyarrow.parquet as pq

    from apps.lightcurves.selectors import tce_views_latest
    from apps.ml.science.datasets import PEOPLE_LABELS, LabelledViews
    from apps.ml.science.registry import sha256_file

    folder = Path(labels_dir)
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
        table = pq.read_table(folder / "labels.parquet", columns=["tce_id", "source", "label", "star_id", "views_preset", "views_version"])
    except (OSError, ValueError, KeyError) as exc:
        raise InvalidInput(f"{folder} is not a labels snapshot (manifest.json + labels.parquet): {exc}") from exc
    chosen: dict[int, dict] = {}
    for row in table.to_pylist():  # sorted by TCE, people's row first
        chosen.setdefault(row["tce_id"], row)
    mapping = PEOPLE_LABELS[task]
    views: dict[str, list[np.ndarray]] = {name: [] for name in view_names}
    labels, stars, tces, codes, skipped = [], [], [], [], {}
    digest, n_bytes = hashlib.sha256(), 0
    for tce_id, row in sorted(chosen.items()):
        if row["label"] not in mapping:
            skipped[str(tce_id)] = f"label {row['label']!r} has no {task} class"
            continue
        version = row["views_version"] if row["views_preset"] == view_preset else None
        found = tce_views_latest(tce_id=tce_id, preset=view_preset, version=version)
        if found is None:
            skipped[str(tce_id)] = f"no {view_preset} views{f' version {version}' if version else ''}"
            continue
        arrays, artifact = found
        wrong = [n for n in view_names if n not in arrays or arrays[n].shape[-1] != view_lengths[n]]
        if wrong:
            skipped[str(tce_id)] = f"views {wrong} missing or of another length"
            continue
        for name in view_names:
            views[name].append(np.asarray(arrays[name], dtype=np.float32).ravel())
        labels.append(mapping[row["label"]])
        stars.append(row["star_id"])
        tces.append(str(tce_id))
        codes.append(row["label"])
        digest.update(f"{tce_id}\0{artifact.version}\0{artifact.sha256}\n".encode())
        n_bytes += artifact.size_bytes
    if not labels:
        raise InvalidInput(f"no TCE of snapshot {manifest.get('snapshot_id')} has usable {view_preset} views: {skipped}")
    data = LabelledViews(
        views={name: np.stack(rows) for name, rows in views.items()},
        scalars=np.zeros((len(labels), 0), dtype=np.float32), scalar_names=(),
        labels=np.array(labels, dtype=np.float32), star_ids=np.array(stars, dtype=np.int64),
        tce_ids=np.array(tces), dispositions=np.array(codes),
    )
    snapshot = manifest.get("snapshot_id", "")
    parquet = folder / "labels.parquet"
    entries = {
        "labels": [{"file": f"labels.parquet (snapshot {snapshot})", "bytes": parquet.stat().st_size, "sha256": sha256_file(parquet)}],
        "views": [{"file": f"{len(labels)} {view_preset} views artifacts ({len(skipped)} TCEs skipped)", "bytes": n_bytes,
                   "sha256": digest.hexdigest()}],
    }
    return data, entries, snapshot
