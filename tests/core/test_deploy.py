"""Production deployment: collectstatic, /healthz before host checks, the proxy switch, gunicorn.

collectstatic and gunicorn run as subprocesses with the production settings module (``DEBUG=0``,
whitenoise's ``CompressedManifestStaticFilesStorage``), the way the Dockerfile runs them.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.staticfiles.storage import ManifestStaticFilesStorage
from django.db import OperationalError

from gaia_web import health
from gaia_web.proxy import client_ip, proxy_ssl_header

ROOT = Path(__file__).resolve().parents[2]
STATIC_BOKEH = re.compile(r"""\{%\s*static\s+['"](bokeh/[^'"]+)['"]\s*%\}""")


def production_env(tmp: Path, **extra: str) -> dict[str, str]:
    """The environment the Dockerfile gives manage.py and gunicorn (plus ``extra``)."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(
        DJANGO_SETTINGS_MODULE="gaia_web.settings",
        DEBUG="0",
        SECRET_KEY="collectstatic-only",
        GAIA_VAR_DIR=str(tmp / "var"),
        DATA_ROOT=str(tmp / "var" / "data"),
    )
    env.update(extra)
    return env


def bokeh_files_pages_need() -> set[str]:
    """Every ``{% static 'bokeh/...' %}`` in the templates (base.html loads BokehJS for plot pages)."""
    found = set()
    for template in (ROOT / "templates").rglob("*.html"):
        found.update(STATIC_BOKEH.findall(template.read_text()))
    return found


@pytest.fixture(scope="session")
def collected_static(tmp_path_factory) -> Path:
    """STATIC_ROOT filled by ``manage.py collectstatic --noinput`` as in the Dockerfile (no database)."""
    tmp = tmp_path_factory.mktemp("collectstatic")
    static_root = tmp / "staticfiles"
    env = production_env(
        tmp, STATIC_ROOT=str(static_root), DATABASE_URL="postgres://nobody@127.0.0.1:9/no_database"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return static_root


def test_collectstatic_succeeds_with_production_settings(collected_static):
    manifest = json.loads((collected_static / "staticfiles.json").read_text())["paths"]
    needed = bokeh_files_pages_need()
    assert {"bokeh/bokeh.min.js", "bokeh/bokeh-widgets.min.js", "bokeh/bokeh-tables.min.js"} <= needed
    assert needed <= {f"bokeh/{name}" for name in django_settings.BOKEHJS_FILES}
    storage = ManifestStaticFilesStorage(location=str(collected_static), base_url="/static/")
    for name in sorted(needed):
        hashed = manifest[name]
        assert hashed != name and (collected_static / hashed).stat().st_size > 100_000, name
        assert (collected_static / f"{hashed}.gz").is_file(), name  # whitenoise's compressed copy
        assert storage.url(name) == f"/static/{hashed}"
    # Only the bundles: not the compiler that broke the manifest, not the TypeScript sources.
    assert {name for name in manifest if name.startswith("bokeh/")} == {
        f"bokeh/{name}" for name in django_settings.BOKEHJS_FILES
    }
    assert not [p for p in (collected_static / "bokeh").rglob("*") if p.is_dir() or "compiler" in p.name]
    # django-ninja's Swagger UI for /api/docs is collected too (offline docs).
    for name in ("ninja/swagger-ui-bundle.js", "ninja/swagger-ui.css", "ninja/swagger-ui-init.js"):
        assert (collected_static / manifest[name]).is_file(), name


def test_bokehjs_finder_serves_only_the_bundles():
    from django.contrib.staticfiles import finders

    assert finders.find("bokeh/bokeh.min.js").endswith("bokeh.min.js")
    assert finders.find("bokeh/compiler.js") is None
    assert finders.find("bokeh/bokeh-gl.min.js") is None
    assert finders.find("bokeh/lib/index.d.ts") is None


# --- /healthz ---------------------------------------------------------------------------------

@pytest.fixture
def production_like(settings):
    """DEBUG off, ALLOWED_HOSTS set as the README documents, https redirect on, no proxy."""
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["example.org"]
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = proxy_ssl_header(False)
    return settings


@pytest.mark.django_db
def test_healthz_answers_the_container_healthcheck_whatever_the_host(production_like, client):
    for host in ("localhost", "127.0.0.1:8000", "example.org"):
        response = client.get("/healthz", HTTP_HOST=host)
        assert response.status_code == 200, (host, response.status_code)
        assert response.content == b"ok\n" and response["Cache-Control"] == "no-store"
    assert client.head("/healthz", HTTP_HOST="localhost").status_code == 200
    # Everything else is still host-checked and redirected to https.
    assert client.get("/", HTTP_HOST="localhost").status_code == 400
    redirected = client.get("/targets/", HTTP_HOST="example.org")
    assert redirected.status_code == 301 and redirected["Location"] == "https://example.org/targets/"


@pytest.mark.django_db
def test_healthz_is_503_when_the_database_does_not_answer(production_like, client, monkeypatch):
    class DownConnection:
        def cursor(self):
            raise OperationalError("connection refused")

    monkeypatch.setattr(health, "connection", DownConnection())
    response = client.get("/healthz", HTTP_HOST="localhost")
    assert response.status_code == 503 and b"database unavailable" in response.content


def test_healthz_middleware_comes_first():
    assert django_settings.MIDDLEWARE[0] == "gaia_web.health.HealthzMiddleware"


# --- GAIA_BEHIND_PROXY ------------------------------------------------------------------------

def _production_setting(tmp_path: Path, name: str, **env: str) -> str:
    code = f"from django.conf import settings; print(repr(settings.{name}))"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=production_env(tmp_path, **env),
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_forwarded_proto_is_trusted_only_behind_the_proxy(tmp_path, monkeypatch):
    monkeypatch.delenv("GAIA_BEHIND_PROXY", raising=False)
    assert _production_setting(tmp_path, "SECURE_PROXY_SSL_HEADER") == "None"
    assert _production_setting(tmp_path, "SECURE_PROXY_SSL_HEADER", GAIA_BEHIND_PROXY="0") == "None"
    assert (_production_setting(tmp_path, "SECURE_PROXY_SSL_HEADER", GAIA_BEHIND_PROXY="1")
            == "('HTTP_X_FORWARDED_PROTO', 'https')")
    assert _production_setting(tmp_path, "SECURE_PROXY_SSL_HEADER", DEBUG="1", GAIA_BEHIND_PROXY="1") != "None"


@pytest.mark.django_db
@pytest.mark.parametrize("behind_proxy", [False, True])
def test_https_redirect_follows_the_proxy_switch(production_like, client, behind_proxy):
    production_like.SECURE_PROXY_SSL_HEADER = proxy_ssl_header(behind_proxy)
    response = client.get("/targets/", HTTP_HOST="example.org", HTTP_X_FORWARDED_PROTO="https")
    # Without a proxy a client's X-Forwarded-Proto is a claim, not a fact: still redirected.
    assert response.status_code == (200 if behind_proxy else 301)


def test_client_address_uses_x_forwarded_for_only_behind_the_proxy(rf, settings):
    request = rf.get("/", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")
    settings.GAIA_BEHIND_PROXY = False
    assert client_ip(request) == "10.0.0.9"
    settings.GAIA_BEHIND_PROXY = True
    assert client_ip(request) == "203.0.113.7"  # the hop our proxy appended; the rest is client-made
    assert client_ip(rf.get("/", REMOTE_ADDR="10.0.0.9")) == "10.0.0.9"


# --- gunicorn -----------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(port: int, path: str, host: str, **headers: str) -> tuple[int, bytes, dict[str, str]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers={"Host": host, **headers})
        response = conn.getresponse()
        return response.status, response.read(), dict(response.getheaders())
    finally:
        conn.close()


def _a_small_world() -> dict:
    """Committed rows for the page tour, and an admin's session cookie value."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from apps.jobs.models import JobStatus
    from apps.vetting.models import VettingLabel
    from tests.conftest import make_user
    from tests.factories import JobFactory, TCEFactory

    tce = TCEFactory()
    admin = make_user(django_user_model(), "gunicorn-admin", "admin")
    VettingLabel.objects.create(tce=tce, user=admin, label="PC", comment="looks fine")
    job = JobFactory(status=JobStatus.FAILED, error_summary="boom")
    session = SessionStore()
    session[SESSION_KEY] = str(admin.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = admin.get_session_auth_hash()
    session.create()
    public = ["/", "/targets/", f"/targets/{tce.target_id}/", "/tces/", f"/tces/{tce.pk}/",
              f"/vet/tces/{tce.pk}/", "/vet/stats/", "/jobs/", f"/jobs/{job.pk}/", "/galex/", "/models/",
              "/api/docs", "/api/openapi.json", "/api/targets", f"/api/vetting/tces/{tce.pk}/labels",
              "/accounts/login/"]
    admin_pages = ["/vet/", "/vet/conflicts/", f"/vet/tces/{tce.pk}/", "/account/tokens/", "/jobs/new/",
                   f"/jobs/{job.pk}/", "/admin/"]
    return {"public": public, "admin": admin_pages, "session": session.session_key}


def django_user_model():  # noqa: ANN201
    from django.contrib.auth import get_user_model

    return get_user_model()


def _database_url() -> str:
    from django.db import connection

    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_gunicorn_serves_pages_in_production_mode(collected_static, tmp_path):
    """gunicorn with DEBUG=0 behind a (simulated) TLS proxy, ALLOWED_HOSTS set, SSL redirect on."""
    port = _free_port()
    env = production_env(
        tmp_path, STATIC_ROOT=str(collected_static), DATABASE_URL=_database_url(),
        ALLOWED_HOSTS="gaia.example.org", GAIA_BEHIND_PROXY="1", SECRET_KEY=django_settings.SECRET_KEY,
    )
    world = _a_small_world()
    log = (tmp_path / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "gaia_web.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", "1", "--timeout", "60"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, (tmp_path / "gunicorn.log").read_text()[-3000:]
            try:
                status, body, _ = _get(port, "/healthz", f"127.0.0.1:{port}")  # as the HEALTHCHECK does
                break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        assert (status, body) == (200, b"ok\n")

        proxied = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
        assert _get(port, "/", "gaia.example.org")[0] == 301  # plain http: to https
        assert _get(port, "/", f"127.0.0.1:{port}", **proxied)[0] == 400  # not an allowed host
        status, home, _ = _get(port, "/", "gaia.example.org", **proxied)
        assert status == 200, home[-2000:]
        status, targets, _ = _get(port, "/targets/", "gaia.example.org", **proxied)
        assert status == 200, targets[-2000:]

        bokeh_js = re.search(rb'src="(/static/bokeh/bokeh\.min\.[0-9a-f]{12}\.js)"', home)
        assert bokeh_js, "the dashboard should load the hashed BokehJS bundle"
        status, script, headers = _get(port, bokeh_js.group(1).decode(), "gaia.example.org", **proxied)
        assert status == 200 and len(script) > 100_000
        assert "immutable" in headers.get("Cache-Control", "")

        # Every page a visitor or a team member relies on renders under gunicorn with DEBUG=0.
        for path in world["public"]:
            status, body, _ = _get(port, path, "gaia.example.org", **proxied)
            assert status == 200, (path, body[-1500:])
        signed_in = {**proxied, "Cookie": f"sessionid={world['session']}"}
        for path in world["admin"]:
            status, body, _ = _get(port, path, "gaia.example.org", **signed_in)
            assert status == 200, (path, body[-1500:])
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
