"""Fault-drill kinds of light-curve processing (``manage.py fault_drill``): process and search.

Both run on eight quarters of the eclipsing binary KIC 2306740 with its three DR24 TCEs (:func:`apps.archive.drill.eclipsing_binary_world`).
``process`` compares the sha256 of every artifact the job stored (flattened series and views,
latest version per key) and counts versions a rerun stored twice; ``search`` compares the TCE
rows the job recorded (its release names the job, so a rerun updates its own rows).
"""

from __future__ import annotations

import hashlib

from apps.archive.drill import eclipsing_binary_world
from apps.catalog.models import TCE
from apps.jobs.drill import (
    DrillSetup,
    Scenario,
    artifact_scenario,
    count_mismatch,
    register_scenario,
)
from apps.jobs.models import Job
from apps.lightcurves.services import SEARCH_SOURCE


def _process_prepare() -> DrillSetup:
    target = eclipsing_binary_world()
    return DrillSetup(params={"target_id": target.pk, "presets": ["gaia", "yu2019", "astronet"]}, targets=[target])


register_scenario(
    artifact_scenario(
        name="process", job_kind="process_target", prepare=_process_prepare,
        compared="sha256 of every artifact stored (flattened series and views per TCE and preset)",
    )
)  # fmt: skip


def _search_prepare() -> DrillSetup:
    target = eclipsing_binary_world()
    params = {"target_id": target.pk, "n_periods": 4000, "max_signals": 2}
    return DrillSetup(params=params, targets=[target])


def _search_outputs(job: Job, setup: DrillSetup) -> dict[str, str]:
    out = {}
    for tce in TCE.objects.filter(source=SEARCH_SOURCE, release=f"job{job.pk}"):
        row = (tce.period_days, tce.epoch, tce.duration_hours, tce.depth_ppm, tce.snr)
        out[f"tce {tce.tce_number}"] = hashlib.sha256(repr(row).encode()).hexdigest()
    return out


def _search_problems(job: Job, setup: DrillSetup) -> list[str]:
    rows = TCE.objects.filter(source=SEARCH_SOURCE, release=f"job{job.pk}").count()
    return count_mismatch(rows, len(job.result.get("found", [])), "{rows} TCE rows for {reported} signals found")


register_scenario(
    Scenario(
        name="search", job_kind="search_target", queue="cpu", prepare=_search_prepare,
        outputs=_search_outputs, problems=_search_problems,
        compared="the TCE rows recorded (period, epoch, duration, depth, SNR per signal)",
    )
)  # fmt: skip
