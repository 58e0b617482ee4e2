"""API tokens: shown once, stored hashed, bearer auth without CSRF, expiry, revocation, last use."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from apps.accounts.models import ApiToken
from apps.accounts.services import api_token_create, token_digest
from apps.jobs.models import Job
from tests.factories import TargetFactory

pytestmark = pytest.mark.django_db


def bearer(secret: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def test_it_prints_a_token_once_and_keeps_only_its_hash(operator, capsys):
    call_command("api_token", "create", operator.username, "--name", "laptop", "--expires-days", "30")
    secret = capsys.readouterr().out.strip()
    token = ApiToken.objects.get()
    assert secret.startswith("gaia_") and len(secret) > 40
    assert token.digest == token_digest(secret) and secret not in (token.prefix, token.digest)
    assert secret.startswith(token.prefix) and len(token.prefix) < 16
    assert token.name == "laptop" and token.expires_at > timezone.now() + timedelta(days=29)
    call_command("api_token", "list", operator.username)
    listing = capsys.readouterr().out
    assert token.prefix in listing and secret not in listing and "active" in listing


def test_it_queues_a_job_with_a_bearer_token_and_no_csrf(operator):
    target = TargetFactory()
    secret = api_token_create(user=operator, name="script").secret
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        f"/api/lightcurves/targets/{target.pk}/process", {"presets": ["gaia"]},
        content_type="application/json", **bearer(secret),
    )
    assert response.status_code == 202
    job = Job.objects.get(pk=response.json()["job_id"])
    assert job.requested_by == operator
    assert ApiToken.objects.get().last_used_at is not None


def test_it_refuses_a_session_write_without_csrf(operator):
    target = TargetFactory()
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator)
    response = client.post(
        f"/api/lightcurves/targets/{target.pk}/process", {"presets": ["gaia"]}, content_type="application/json"
    )
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]
    assert not Job.objects.exists()


def test_it_answers_401_to_revoked_expired_and_made_up_tokens(operator, capsys):
    made = api_token_create(user=operator, name="a")
    client = Client()
    assert client.get("/api/jobs", **bearer(made.secret)).status_code == 200
    call_command("api_token", "revoke", str(made.token.pk))
    assert client.get("/api/jobs", **bearer(made.secret)).status_code == 401
    old = api_token_create(user=operator, name="b", expires_days=1)
    ApiToken.objects.filter(pk=old.token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get("/api/jobs", **bearer(old.secret)).status_code == 401
    assert client.get("/api/jobs", **bearer("gaia_" + "x" * 43)).status_code == 401
    assert client.get("/api/jobs", **bearer("\x00" * 5000)).status_code == 401


def test_it_acts_with_the_token_owners_role(viewer):
    target = TargetFactory()
    secret = api_token_create(user=viewer, name="read-only").secret
    response = Client().post(
        f"/api/lightcurves/targets/{target.pk}/process", {}, content_type="application/json", **bearer(secret)
    )
    assert response.status_code == 403 and not Job.objects.exists()


def test_it_creates_and_revokes_tokens_on_the_tokens_page(client, vetter, viewer):
    assert client.get("/account/tokens/").status_code == 302
    client.force_login(vetter)
    page = client.post("/account/tokens/", {"name": "notebook", "expires_days": "7"})
    token = ApiToken.objects.get()
    html = page.content.decode()
    assert page.status_code == 200 and "shown once" in html and token.prefix in html
    secret = re.search(r'id="new-token".*?<code>(gaia_[^<]+)</code>', html, re.S).group(1)
    assert token_digest(secret) == token.digest
    client.force_login(viewer)
    assert client.post(f"/account/tokens/{token.pk}/revoke/").status_code == 302
    assert ApiToken.objects.get().revoked_at is None  # not viewer's token
    client.force_login(vetter)
    client.post(f"/account/tokens/{token.pk}/revoke/")
    assert ApiToken.objects.get().revoked_at is not None
    listing = client.get("/account/tokens/").content.decode()
    assert "revoked" in listing and secret not in listing


def test_the_openapi_document_shows_both_auth_schemes(client):
    schema = client.get("/api/openapi.json").json()
    schemes = schema["components"]["securitySchemes"]
    kinds = {(s["type"], s.get("scheme") or s.get("in")) for s in schemes.values()}
    assert ("http", "bearer") in kinds and ("apiKey", "cookie") in kinds
