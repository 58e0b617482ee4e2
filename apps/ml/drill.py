"""Fault-drill kinds of the ML app (``manage.py fault_drill``): infer and train.

``infer`` scores the three DR24 TCEs of KIC 2306740 (views processed once beforehand) with a small untrained
model registered for the drill, and compares each TCE's stored scores. ``train`` trains one
epoch on 300 examples of the Yu et al. 2019 shards and compares what the run wrote.
"""

from __future__ import annotations

import hashlib
import json
import tempfile

import torch

from apps.archive.drill import eclipsing_binary_world
from apps.core.files import data_root, sha256_file
from apps.jobs.drill import DrillSetup, Scenario, count_mismatch, register_scenario
from apps.jobs.models import Job
from apps.lightcurves.services import target_process
from apps.ml.models import ModelVersion, Prediction
from apps.ml.science.networks import build_model, preset_config
from apps.ml.science.registry import save_model
from apps.ml.services import modelversion_register

DRILL_MODEL = "drill_yu2019_triage"


def _infer_prepare() -> DrillSetup:
    target = eclipsing_binary_world()
    target_process(target=target, presets=["yu2019"])
    if not ModelVersion.objects.filter(name=DRILL_MODEL).exists():
        torch.manual_seed(0)
        model = build_model(preset_config("yu2019_triage"))
        with tempfile.TemporaryDirectory() as folder:
            manifest = save_model(model, folder, DRILL_MODEL, task="triage", dtype="float32")
            modelversion_register(manifest_path=manifest)
    params = {"target_id": target.pk, "model": DRILL_MODEL, "task": "triage"}
    return DrillSetup(params=params, targets=[target])


def _infer_outputs(job: Job, setup: DrillSetup) -> dict[str, str]:
    rows = Prediction.objects.filter(job=job).values_list("tce_id", "raw_score", "probability", "views_version")
    return {f"tce {tce}": f"{raw!r} {probability!r} v{views}" for tce, raw, probability, views in rows}


def _infer_problems(job: Job, setup: DrillSetup) -> list[str]:
    rows = Prediction.objects.filter(job=job).count()
    return count_mismatch(rows, job.result.get("scored"), "{rows} predictions for {reported} TCEs scored")


register_scenario(
    Scenario(
        name="infer", job_kind="infer", queue="cpu", prepare=_infer_prepare,
        outputs=_infer_outputs, problems=_infer_problems,
        compared="each TCE's stored raw score, probability and views version",
    )
)  # fmt: skip


#: Manifest fields that record when and how fast a run went, not what it produced.
UNREPEATABLE = ("created", "seconds")


def _without_timings(value: object) -> object:
    if isinstance(value, dict):
        return {k: _without_timings(v) for k, v in sorted(value.items()) if k not in UNREPEATABLE}
    if isinstance(value, list):
        return [_without_timings(v) for v in value]
    return value


def _train_outputs(job: Job, setup: DrillSetup) -> dict[str, str]:
    """What the job's own training run wrote (``DATA_ROOT/models/job<id>``): the weights, which a
    fixed seed on the CPU makes repeatable byte for byte, and the manifest without its time stamp
    and durations. (The registered ModelVersion is not compared: registering weights already
    registered returns the earlier row.)"""
    out = {}
    for path in sorted((data_root() / "models" / f"job{job.pk}").iterdir()):
        if path.suffix == ".json":
            manifest = _without_timings(json.loads(path.read_text()))
            out[path.name] = hashlib.sha256(json.dumps(manifest, sort_keys=True).encode()).hexdigest()
        else:
            out[path.name] = sha256_file(path)
    return out


register_scenario(
    Scenario(
        name="train", job_kind="train_model", queue="cpu",
        prepare=lambda: DrillSetup(params={"task": "triage", "epochs": 1, "max_examples": 300}),
        outputs=_train_outputs,
        compared="weights sha256 and manifest (minus its time stamp and durations) of the run: seeded, 1 epoch, 300 examples",
    )
)  # fmt: skip
