"""Every write, as every role: refused calls answer 401 (no login) or 403 (no role) and leave no
trace — no new row in any of the project's tables and no new file — while allowed calls pass the gate.

Routes come from the URL map and the OpenAPI document, so a write added later is covered at once.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.test import Client
from django.urls import reverse

from apps.accounts.permissions import (
    API_PERMISSIONS,
    OPEN,
    PAGE_PERMISSIONS,
    READ,
    SIGNED_IN,
    user_can,
)
from apps.jobs.models import JobStatus
from tests.accounts.test_permission_table import page_routes
from tests.conftest import make_user
from tests.factories import JobFactory, TCEFactory

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "viewer", "vetter", "adjudicator", "operator", "admin")


@pytest.fixture
def world(django_user_model):
    """One of each object a write can name, owned by someone else than the caller."""
    tce = TCEFactory()
    owner = make_user(django_user_model, "owner", "admin")
    job = JobFactory(requested_by=owner, status=JobStatus.FAILED)
    return {"target_id": tce.target_id, "tce_id": tce.pk, "job_id": job.pk, "eclipse_id": 1,
            "version_id": 1, "lightcurve_id": 1, "token_id": 1, "artifact_id": 1, "queue": "uncertain"}


def caller(role: str, django_user_model) -> tuple[Client, object]:
    client = Client()
    if role == "anonymous":
        return client, AnonymousUser()
    person = make_user(django_user_model, f"matrix-{role}", role)
    client.force_login(person)
    return client, person


def project_row_counts() -> dict[str, int]:
    counted = {}
    for model in django_apps.get_models():
        if model.__module__.startswith("apps.") and model._meta.managed:
            counted[model._meta.label] = model.objects.count()
    return counted


def data_files() -> int:
    root = Path(settings.DATA_ROOT)
    return sum(1 for p in root.rglob("*") if p.is_file()) if root.exists() else 0


def fill(template: str, world: dict) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(world.get(m.group(1), 1)), template)


def api_writes(client: Client) -> list[tuple[str, str, str]]:
    schema = client.get("/api/openapi.json").json()
    return [
        (method.upper(), path, op["operationId"])
        for path, item in schema["paths"].items()
        for method, op in item.items()
        if method.upper() not in ("GET", "HEAD", "OPTIONS")
    ]


def page_writes(world: dict) -> list[tuple[str, str]]:
    """(url, key) of every page whose entry needs more than reading."""
    found = []
    for ns, name, route in page_routes():
        key = f"{ns}:{name}" if ns else name
        if PAGE_PERMISSIONS.get(key) in (OPEN, READ):
            continue
        kwargs = {arg: world.get(arg, 1) for arg in re.findall(r"<(?:\w+:)?(\w+)>", route)}
        found.append((reverse(key, kwargs=kwargs), key))
    return found


def assert_refused(response, role: str, *, page: bool) -> None:
    if role == "anonymous":
        if page:
            assert response.status_code == 302 and "/accounts/login/" in response["Location"]
        else:
            assert response.status_code == 401
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("role", ROLES)
def test_every_api_write_as_every_role(role, world, django_user_model):
    client, person = caller(role, django_user_model)
    writes = api_writes(client)
    assert len(writes) >= 8
    for method, path, op_id in writes:
        level = API_PERMISSIONS[op_id]
        before, files = project_row_counts(), data_files()
        response = client.generic(method, fill(path, world),
                                  data="{}", content_type="application/json")
        if user_can(person, level):
            assert response.status_code != 401, (op_id, role, response.content[:300])
            if level != SIGNED_IN and role == "admin":
                assert response.status_code != 403, (op_id, role, response.content[:300])
            continue
        assert_refused(response, role, page=False)
        assert project_row_counts() == before, (op_id, role)
        assert data_files() == files, (op_id, role)


@pytest.mark.parametrize("role", ROLES)
def test_every_page_write_as_every_role(role, world, django_user_model):
    client, person = caller(role, django_user_model)
    writes = page_writes(world)
    assert len(writes) >= 8
    for url, key in writes:
        level = PAGE_PERMISSIONS[key]
        before, files = project_row_counts(), data_files()
        response = client.post(url, {})
        if user_can(person, level):
            assert response.status_code not in (401, 403) or role != "admin", (key, role)
            continue
        assert_refused(response, role, page=True)
        assert project_row_counts() == before, (key, role)
        assert data_files() == files, (key, role)


@pytest.mark.parametrize(
    ("role", "status"),
    [("anonymous", 401), ("viewer", 403), ("vetter", 403), ("adjudicator", 403), ("operator", 202), ("admin", 202)],
)
def test_queuing_processing_of_a_given_target(role, status, world, django_user_model):
    client, _person = caller(role, django_user_model)
    response = client.post(f"/api/lightcurves/targets/{world['target_id']}/process", {"presets": ["gaia"]},
                           content_type="application/json")
    assert response.status_code == status


@pytest.mark.parametrize(
    ("kind", "params", "operator_status"),
    [
        ("train_model", {"epochs": 1}, 403),
        ("load_demo", {}, 403),
        ("archive_download", {"catalog": "dr24", "limit": 10}, 403),
        ("archive_download", {"mission": "kepler", "identifiers": [1], "source": "mirror"}, 403),
        ("infer", {"missing": True}, 403),
        ("archive_import_tables", {"names": ["toi"]}, 403),
    ],
)
def test_operators_cannot_queue_admin_only_work_through_the_generic_endpoint(
    kind, params, operator_status, world, django_user_model
):
    client, _person = caller("operator", django_user_model)
    before = project_row_counts()
    response = client.post("/api/jobs", {"kind": kind, "params": params}, content_type="application/json")
    assert response.status_code == operator_status, response.content[:300]
    assert project_row_counts() == before
