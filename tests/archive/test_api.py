"""The archive API: queue downloads and table imports (operators; catalogue-wide: admins), read a ledger."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from apps.archive.models import FileState
from apps.archive.science.naming import kepler_names
from apps.archive.services import ledger_ensure
from apps.catalog.models import Target
from apps.jobs.models import Job, JobStatus

pytestmark = pytest.mark.django_db


class Api:
    """The real API under /api/archive/ through Django's test client, as one logged-in user."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def post(self, path: str, json: dict):  # noqa: ANN201
        return self.client.post(f"/api/archive{path}", json, content_type="application/json")

    def get(self, path: str, query_params: dict | None = None):  # noqa: ANN201
        return self.client.get(f"/api/archive{path}", query_params or {})


@pytest.fixture
def api(client: Client, operator) -> Api:  # noqa: ANN001
    client.force_login(operator)
    return Api(client)


@pytest.fixture
def admin_api(admin_user) -> Api:  # noqa: ANN001
    own = Client()
    own.force_login(admin_user)
    return Api(own)


def test_it_refuses_anonymous_and_viewer_downloads_and_queues_nothing(client: Client, viewer) -> None:  # noqa: ANN001
    anonymous = Api(client).post("/downloads", json={"catalog": "dr24", "limit": 300000})
    assert anonymous.status_code == 401
    client.force_login(viewer)
    assert Api(client).post("/downloads", json={"mission": "kepler", "identifiers": ["11442793"]}).status_code == 403
    assert Api(client).post("/tables", json={"names": ["toi"]}).status_code == 403
    assert not Job.objects.exists()


def test_it_queues_a_download_for_identifiers(api: Api, data_root: Path) -> None:
    response = api.post(
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


def test_it_queues_one_download_per_mission_for_targets(api: Api, data_root: Path) -> None:
    kepler = Target.objects.create(mission="kepler", identifier="11442793")
    tess = Target.objects.create(mission="tess", identifier="25155310")
    response = api.post("/downloads", json={"target_ids": [kepler.pk, tess.pk]})
    assert response.status_code == 202 and len(response.json()) == 2
    assert sorted(Job.objects.values_list("params__mission", flat=True)) == ["kepler", "tess"]
    assert set(Job.objects.get(params__mission="tess").targets.all()) == {tess}


def test_it_queues_a_catalogue_download_with_a_limit_for_admins_only(
    api: Api, admin_api: Api, data_root: Path
) -> None:
    assert api.post("/downloads", json={"catalog": "dr24", "limit": 100}).status_code == 403
    assert not Job.objects.exists()
    response = admin_api.post("/downloads", json={"catalog": "dr24", "limit": 100})
    assert response.status_code == 202
    assert (
        Job.objects.get().params["catalog"] == "dr24" and Job.objects.get().params["limit"] == 100
    )


def test_it_refuses_bad_identifiers_and_unknown_targets(api: Api, data_root: Path) -> None:
    wasp = api.post("/downloads", json={"mission": "tess", "identifiers": ["WASP-126"]})
    assert wasp.status_code == 422 and "is not a TIC number" in wasp.json()["detail"]
    unknown = api.post("/downloads", json={"target_ids": [987654]})
    assert unknown.status_code == 422 and "do not exist" in unknown.json()["detail"]
    assert api.post("/downloads", json={"mission": "hubble", "identifiers": ["1"]}).status_code == 422
    assert not Job.objects.exists()


def test_it_lists_and_counts_the_ledger_entries_of_a_job(api: Api, data_root: Path) -> None:
    job = Job.objects.create(kind="archive_download")
    rows = ledger_ensure(names=kepler_names(11442793, quarters=[3, 4, 5]), job=job)
    rows[0].state = FileState.FAILED
    rows[0].last_error = "HTTP 403 (not retried)"
    rows[0].save()
    summary = api.get(f"/downloads/{job.pk}").json()
    assert (
        summary["files"] == 4
        and summary["counts"]["failed"] == 1
        and summary["counts"]["pending"] == 3
    )
    page = api.get(f"/downloads/{job.pk}/files", query_params={"limit": 2}).json()
    assert page["count"] == 4 and len(page["items"]) == 2
    failed = api.get(f"/downloads/{job.pk}/files", query_params={"state": "failed"}).json()[
        "items"
    ]
    assert [entry["last_error"] for entry in failed] == ["HTTP 403 (not retried)"]


def test_it_queues_a_table_import_for_admins_only(api: Api, admin_api: Api) -> None:
    assert api.post("/tables", json={"names": ["dr24_tce", "toi"], "source": "tap"}).status_code == 403
    response = admin_api.post("/tables", json={"names": ["dr24_tce", "toi"], "source": "tap"})
    assert response.status_code == 202
    assert Job.objects.get(pk=response.json()["job_id"]).params["names"] == ["dr24_tce", "toi"]
