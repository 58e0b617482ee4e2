"""The fault drill, small: real worker processes SIGKILLed at random moments of a processing job
and of an ingest job; each job still finishes, with the same outputs as an uninterrupted run,
and leaves no temporary or orphan file (``manage.py fault_drill`` runs the full drill)."""

from __future__ import annotations

import pytest

from apps.jobs.drill import Drill, results_table, scenarios

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_every_drill_kind_of_the_issue_is_registered():
    assert list(scenarios()) == [
        "download", "ingest", "process", "search", "infer", "reduce", "train", "load_demo",
    ]  # fmt: skip


def test_killed_workers_lose_nothing_in_processing_and_ingest(broker, settings, demo_data, tmp_path):
    settings.GAIA_DEMO_DATA = demo_data
    drill = Drill(kills=2, seed=7, kills_per_job=2, lease_s=4, log_dir=tmp_path / "worker-logs")

    results = drill.run(["process", "ingest"])

    table = results_table(results)
    for result in results:
        assert result.ok, f"{table}\n{result.as_dict()}"
        assert result.kills == 2 and result.completed == result.identical == len(result.rounds)
        assert result.baseline_outputs > 0
