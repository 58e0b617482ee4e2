"""Fault-drill kind of the catalogue (``manage.py fault_drill``): load_demo.

The load_demo job's own steps (catalogue tables, every demo light curve, target names); the
processing, scoring and GALEX steps are drilled as their own kinds and skipped here. Each job
starts with the demo light curves removed; the drill compares the sha256 of every Parquet series
and a digest of the TCE rows of each catalogue, so a rerun that duplicated or lost rows shows.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from django.conf import settings

from apps.catalog.demo import demo_fits_files
from apps.catalog.models import TCE, LightCurve
from apps.catalog.services import lightcurves_delete
from apps.core.files import data_root, sha256_file
from apps.jobs.drill import DrillSetup, Scenario, register_scenario
from apps.jobs.models import Job

SKIPPED = ["process and score", "galex"]


def _names() -> list[str]:
    return [p.name for p in demo_fits_files(Path(settings.GAIA_DEMO_DATA))]


def _reset(setup: DrillSetup) -> None:
    lightcurves_delete(source_filenames=_names())


def _outputs(job: Job, setup: DrillSetup) -> dict[str, str]:
    out = {}
    for curve in LightCurve.objects.filter(source_filename__in=_names()):
        out[f"series {curve.source_filename}"] = sha256_file(data_root() / curve.parquet_path)
    # order_by("source"): with the model's default ordering, DISTINCT would run over (source, target, number).
    for source in TCE.objects.order_by("source").values_list("source", flat=True).distinct():
        rows = TCE.objects.filter(source=source).order_by("target__identifier", "release", "tce_number")
        values = list(rows.values_list("target__identifier", "release", "tce_number", "period_days", "epoch"))
        out[f"tces {source}"] = f"{len(values)} rows " + hashlib.sha256(repr(values).encode()).hexdigest()
    return out


def _problems(job: Job, setup: DrillSetup) -> list[str]:
    errors = job.result.get("errors") or {}
    failed = (job.result.get("light curves") or {}).get("failed") or {}
    return [f"step {k}: {v}" for k, v in errors.items()] + [f"{k}: {v}" for k, v in failed.items()]


register_scenario(
    Scenario(
        name="load_demo", job_kind="load_demo", queue="cpu",
        prepare=lambda: DrillSetup(params={"skip": SKIPPED}), reset=_reset, outputs=_outputs, problems=_problems,
        compared="sha256 of every demo Parquet series and a digest of each catalogue's TCE rows "
        "(steps 'process and score' and 'galex' skipped: drilled as process, infer, search, reduce)",
    )
)  # fmt: skip
