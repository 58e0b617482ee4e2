"""load_demo step: register the shipped models, search the demo stars that have no TCEs, process
the demo targets and score their TCEs with their mission's default model."""

from __future__ import annotations

from pathlib import Path

from apps.catalog.demo import DEMO_NAMES
from apps.catalog.models import TCE, Target
from apps.core.errors import GaiaError
from apps.jobs.runner import JobContext
from apps.lightcurves.services import target_process, target_search
from apps.ml.selectors import default_version
from apps.ml.services import modelversion_register_shipped, tces_score


def process_and_score_demo(demo_dir: Path, ctx: JobContext) -> dict:
    versions = modelversion_register_shipped()
    targets = [
        t for t in Target.objects.filter(lightcurves__isnull=False).distinct()
        if (t.mission, t.identifier) in DEMO_NAMES
    ]
    report: dict = {"models": [str(v) for v in versions], "targets": {}}
    for index, target in enumerate(targets, start=1):
        try:
            if not TCE.objects.filter(target=target).exists():
                # TESS demo stars have no catalogue TCEs here: find their planets with the search.
                found = target_search(target=target, job=ctx.job, max_signals=1)
                report.setdefault("search", {})[target.display_id] = [round(t.period_days, 4) for t in found]
            processed = target_process(target=target, job=ctx.job, check_cancelled=ctx.check_cancelled)
            entry: dict = {"views": len(processed["tces"]), "failed": len(processed["failed"])}
            triage = default_version("triage", target.mission)  # the mission's default (MODEL_DEFAULTS)
            if triage is not None:
                scored = tces_score(tces=TCE.objects.filter(target=target), version=triage, job=ctx.job)
                entry.update(scored=scored["scored"], model=triage.name)
        except GaiaError as exc:
            entry = {"error": exc.message}
        report["targets"][target.display_id] = entry
        ctx.progress(index, len(targets), unit="targets")
    return report
