"""The archive router: queue downloads and table imports, read a job's ledger."""

from __future__ import annotations

from pathlib import Path

import pytest
from ninja.testing import TestClient

from apps.archive.api import router
from apps.archive.models import FileState
from apps.archive.science.naming import kepler_names
from apps.archive.services import ledger_ensure
from apps.catalog.models import Target
from apps.core.errors import InvalidInput
from apps.jobs.models import Job, JobStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def client() -> TestClient:
    return TestClient(router)


def test_it_queues_a_download_for_identifiers(client: TestClient, data_root: Path) -> None:
    response = client.post(
        "/downloads", json={"mission": "kepler", "identifiers": ["KIC 11442793"], "seasons": [3]}
    )
    assert response.status_code == 202
    [queued] = response.json()
    job = Job.objects.get(pk=queued["job_id"])
    assert (queued["kind"], queued["queue"], job.status) == (
        "archive_download",
        "downloads",
        JobStatus.QUEUED,
    )
    assert job.params["identifiers"] == [11442793] and job.params["seasons"] == [3]


def test_it_queues_one_download_per_mission_for_targets(
    client: TestClient, data_root: Path
) -> None:
    kepler = Target.objects.create(mission="kepler", identifier="11442793")
    tess = Target.objects.create(mission="tess", identifier="25155310")
    response = client.post("/downloads", json={"target_ids": [kepler.pk, tess.pk]})
    assert response.status_code == 202 and len(response.json()) == 2
    assert sorted(Job.objects.values_list("params__mission", flat=True)) == ["kepler", "tess"]
    assert set(Job.objects.get(params__mission="tess").targets.all()) == {tess}


def test_it_queues_a_catalogue_download_with_a_limit(client: TestClient, data_root: Path) -> None:
    response = client.post("/downloads", json={"catalog": "dr24", "limit": 100})
    assert response.status_code == 202
    assert (
        Job.objects.get().params["catalog"] == "dr24" and Job.objects.get().params["limit"] == 100
    )


def test_it_refuses_bad_identifiers_and_unknown_targets(
    client: TestClient, data_root: Path
) -> None:
    with pytest.raises(InvalidInput, match="is not a TIC number"):
        client.post("/downloads", json={"mission": "tess", "identifiers": ["WASP-126"]})
    with pytest.raises(InvalidInput, match="do not exist"):
        client.post("/downloads", json={"target_ids": [987654]})
    assert (
        client.post("/downloads", json={"mission": "hubble", "identifiers": ["1"]}).status_code
        == 422
    )
    assert not Job.objects.exists()


def test_it_lists_and_counts_the_ledger_entries_of_a_job(
    client: TestClient, data_root: Path
) -> None:
    job = Job.objects.create(kind="archive_download")
    rows = ledger_ensure(names=kepler_names(11442793, quarters=[3, 4, 5]), job=job)
    rows[0].state = FileState.FAILED
    rows[0].last_error = "HTTP 403 (not retried)"
    rows[0].save()
    summary = client.get(f"/downloads/{job.pk}").json()
    assert (
        summary["files"] == 4
        and summary["counts"]["failed"] == 1
        and summary["counts"]["pending"] == 3
    )
    page = client.get(f"/downloads/{job.pk}/files", query_params={"limit": 2}).json()
    assert page["count"] == 4 and len(page["items"]) == 2
    failed = client.get(f"/downloads/{job.pk}/files", query_params={"state": "failed"}).json()[
        "items"
    ]
    assert [entry["last_error"] for entry in failed] == ["HTTP 403 (not retried)"]


def test_it_queues_a_table_import(client: TestClient) -> None:
    response = client.post("/tables", json={"names": ["dr24_tce", "toi"], "source": "tap"})
    assert response.status_code == 202
    assert Job.objects.get(pk=response.json()["job_id"]).params["names"] == ["dr24_tce", "toi"]
