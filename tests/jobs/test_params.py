"""Every job kind's parameters go through one schema with bounds, whichever path queued the job.

``actor.validate_params`` is what ``job_enqueue`` (pages, API, admin actions, commands) and
``run_in_foreground`` call, and what a worker calls again before running a message.
"""

from __future__ import annotations

import pytest

from apps.catalog.models import Cadence, LightCurve
from apps.core.errors import InvalidInput
from apps.jobs.models import JobStatus
from apps.jobs.registry import actor_for
from tests.factories import JobFactory, TargetFactory, TCEFactory

pytestmark = pytest.mark.django_db

KINDS = [
    "worker_check", "load_demo", "reduce_eclipse", "infer", "train_model", "process_target",
    "search_target", "archive_download", "archive_ingest", "archive_import_tables",
]  # fmt: skip


def validate(kind: str, params: dict) -> dict:
    return actor_for(kind).validate_params(params)


def refused(kind: str, params: dict, match: str) -> None:
    with pytest.raises(InvalidInput, match=match):
        validate(kind, params)


def target_with_data(days: float = 90.0):  # noqa: ANN201 - a Target
    """A target whose one light curve spans ``days`` (the series file is not needed to validate)."""
    target = TargetFactory()
    LightCurve.objects.create(
        target=target, mission=target.mission, quarter_or_sector=1, cadence=Cadence.LONG,
        n_points=100, time_start=130.0, time_end=130.0 + days, time_system=target.time_system,
        parquet_path="none.parquet", source_filename="x.fits", source_sha256="0" * 64,
    )  # fmt: skip
    return target


@pytest.mark.parametrize("kind", KINDS)
def test_it_refuses_unknown_keys_for_every_kind_by_name(kind: str, settings, demo_data) -> None:  # noqa: ANN001
    settings.GAIA_DEMO_DATA = demo_data
    refused(kind, {"no_such_option": 1}, "unknown parameter no_such_option")


@pytest.mark.parametrize(
    ("kind", "params"),
    [
        ("load_demo", {"demo_dir": "/etc"}),
        ("archive_import_tables", {"names": ["koi"], "source": "local", "demo_dir": "/etc"}),
        ("archive_download", {"mission": "kepler", "identifiers": [5], "source": "mirror", "mirror_root": "/"}),
    ],
)
def test_it_never_takes_a_folder_from_the_parameters(kind: str, params: dict, settings, demo_data) -> None:  # noqa: ANN001
    settings.GAIA_DEMO_DATA = demo_data
    refused(kind, params, "unknown parameter (demo_dir|mirror_root)")


def test_it_bounds_the_worker_check() -> None:
    assert validate("worker_check", {"steps": "3"}) == {"steps": 3, "pause_s": 0.5}
    refused("worker_check", {"steps": 10**9}, "steps: Input should be less than or equal to 1000")
    refused("worker_check", {"pause_s": float("inf")}, "pause_s")


def test_it_checks_the_demo_steps_to_skip(settings, demo_data) -> None:  # noqa: ANN001
    settings.GAIA_DEMO_DATA = demo_data
    assert validate("load_demo", {"skip": ["galex"]}) == {"skip": ["galex"]}
    refused("load_demo", {"skip": ["rm -rf"]}, "unknown demo step")
    refused("load_demo", {"skip": ["galex"] * 21}, "skip")


def test_it_answers_422_for_a_non_numeric_target_id(client, staff) -> None:  # noqa: ANN001
    client.force_login(staff)
    for kind in ("infer", "process_target", "search_target"):
        response = client.post(
            "/api/jobs", {"kind": kind, "params": {"target_id": "abc"}}, content_type="application/json"
        )
        assert response.status_code == 422, (kind, response.content)
        assert "target_id" in response.json()["detail"]


def test_it_bounds_scoring_requests() -> None:
    tce = TCEFactory()
    refused("infer", {"target_id": "abc"}, "target_id: Input should be a valid integer")
    refused("infer", {"tce_ids": [2**64]}, "tce_ids.0")
    refused("infer", {"tce_ids": list(range(1, 100_002))}, "tce_ids")
    refused("infer", {"target_id": tce.target_id, "missing": True}, "exactly one of")
    refused("infer", {"missing": True, "model": "²" * 300}, "model")
    refused("infer", {"missing": True, "task": "dreaming"}, "task")


def test_it_bounds_training() -> None:
    clean = validate("train_model", {"epochs": 3, "max_examples": ""})
    assert clean["preset"] == "yu2019_triage" and clean["max_examples"] is None
    refused("train_model", {"epochs": 201}, "epochs")
    refused("train_model", {"ensemble": 11}, "ensemble")
    refused("train_model", {"seed": -1}, "seed")
    refused("train_model", {"preset": "bigger"}, "unknown model preset")


def test_it_allows_at_most_three_known_presets_once_each() -> None:
    target = TargetFactory()
    assert validate("process_target", {"target_id": target.pk})["presets"] == ["gaia", "yu2019"]
    refused("process_target", {"target_id": target.pk, "presets": ["gaia"] * 4}, "at most 3")
    refused("process_target", {"target_id": target.pk, "presets": ["gaia", "gaia"]}, "at most once")
    refused("process_target", {"target_id": target.pk, "presets": ["nope"]}, "unknown preset")


def test_it_keeps_the_search_inside_the_data_span() -> None:
    target = target_with_data(days=90.0)
    clean = validate("search_target", {"target_id": target.pk, "period_max": "", "n_periods": 1000})
    assert clean["period_max"] is None and clean["n_periods"] == 1000
    refused("search_target", {"target_id": target.pk, "period_max": 200}, "longer than the data span")
    refused("search_target", {"target_id": target.pk, "period_min": 50}, "must be below period_max")
    refused("search_target", {"target_id": target.pk, "period_min": 0.1}, "period_min")
    refused("search_target", {"target_id": target.pk, "period_min": float("nan")}, "period_min")
    refused("search_target", {"target_id": target.pk, "period_max": float("inf")}, "period_max")
    refused("search_target", {"target_id": TargetFactory().pk}, "no light curves")


def test_it_counts_the_search_trials_before_allocating_anything() -> None:
    target = target_with_data()
    assert validate("search_target", {"target_id": target.pk, "n_periods": 200_000})
    refused("search_target", {"target_id": target.pk, "n_periods": 200_001}, "1000005 trials; at most 1000000")
    refused("search_target", {"target_id": target.pk, "n_periods": 10**12}, "trials")


def test_it_caps_the_movie_frames_of_a_reduction(settings, demo_data) -> None:  # noqa: ANN001
    from apps.galex.services import eclipse_leg_seconds, eclipse_simulate

    settings.GALEX_CAL_DIR = demo_data / "galex" / "cal_data"
    eclipse = eclipse_simulate(n_events=20_000, seed=1)
    seconds = sum(eclipse_leg_seconds(eclipse))
    settings.GAIA_GALEX_MAX_FRAMES = 50
    assert validate("reduce_eclipse", {"eclipse_id": eclipse.pk, "depth": seconds / 10})["burst"] is False
    refused("reduce_eclipse", {"eclipse_id": eclipse.pk, "depth": 1}, "movie frames .* at most 50")
    assert validate("reduce_eclipse", {"eclipse_id": eclipse.pk, "depth": ""})["depth"] is None
    refused("reduce_eclipse", {"eclipse_id": eclipse.pk, "depth": 0.5}, "depth")
    refused("reduce_eclipse", {"eclipse_id": eclipse.pk, "depth": float("nan")}, "depth")
    refused("reduce_eclipse", {"eclipse_id": eclipse.pk, "compression": "zip"}, "compression")
    refused("reduce_eclipse", {"eclipse_id": 2**63}, "eclipse_id")


def test_it_bounds_downloads(settings, tmp_path) -> None:  # noqa: ANN001
    clean = validate("archive_download", {"mission": "kepler", "identifiers": ["KIC 11442793"]})
    assert clean["identifiers"] == [11442793] and "mirror_root" not in clean
    refused("archive_download", {"identifiers": [5], "concurrency": 65}, "concurrency")
    refused("archive_download", {"identifiers": [5], "seasons": [10**9]}, "seasons.0")
    refused("archive_download", {"identifiers": [5], "seasons": list(range(201))}, "seasons")
    refused("archive_download", {"identifiers": [5], "seasons": [18]}, "Kepler has no quarter 18")
    refused("archive_download", {"identifiers": ["²"]}, "is not a KIC number")
    refused("archive_download", {"identifiers": ["9" * 5000]}, "identifiers")
    refused("archive_download", {"identifiers": [5], "source": "mirror"}, "GAIA_ARCHIVE_MIRROR_ROOT")
    settings.GAIA_ARCHIVE_MIRROR_ROOT = str(tmp_path)
    assert validate("archive_download", {"identifiers": [5], "source": "mirror"})["source"] == "mirror"


def test_it_validates_ingest_and_table_imports() -> None:
    assert validate("archive_ingest", {"file_ids": [3, 4]}) == {"file_ids": [3, 4], "parent_job_id": None}
    refused("archive_ingest", {"file_ids": ["abc"]}, "file_ids.0")
    refused("archive_ingest", {}, "file_ids: Field required")
    assert validate("archive_import_tables", {"names": ["koi", "koi"]})["names"] == ["koi"]
    refused("archive_import_tables", {"names": ["passwords"]}, "unknown table")
    refused("archive_import_tables", {"names": ["koi"], "limit": 0}, "limit")


def test_it_validates_again_when_a_worker_takes_the_message() -> None:
    # A row whose parameters never went through job_enqueue (a crafted or redelivered message).
    job = JobFactory(kind="worker_check", params={"steps": 1, "pause_s": 0, "mirror_root": "/"})
    with pytest.raises(InvalidInput):
        actor_for("worker_check").fn(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "unknown parameter mirror_root" in job.error_summary
