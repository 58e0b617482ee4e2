"""Shared fixtures: where the real demo data lives, and a small world of users."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent

# Fixtures for a real Dramatiq worker on the real Redis (broker, worker) and for a local S3
# server (s3_products), usable by every test.
pytest_plugins = ["tests.workers", "tests.s3server"]


def demo_data_root() -> Path:
    """The folder of real Kepler/TESS/GALEX files (../shared/data unless GAIA_DEMO_DATA is set)."""
    raw = os.environ.get("GAIA_DEMO_DATA")
    return Path(raw) if raw else (REPO_ROOT.parent / "shared" / "data").resolve()


@pytest.fixture(scope="session")
def demo_data() -> Path:
    root = demo_data_root()
    if not root.is_dir():
        pytest.fail(f"demo data folder {root} is missing: set GAIA_DEMO_DATA")
    return root


@pytest.fixture(autouse=True)
def _isolated_data_root(request, tmp_path_factory):
    """Product files written by a test go to a temporary DATA_ROOT, never into var/."""
    if "settings" not in request.fixturenames and not request.node.get_closest_marker("django_db"):
        yield
        return
    settings = request.getfixturevalue("settings")
    settings.DATA_ROOT = tmp_path_factory.mktemp("data_root")
    yield


def make_user(django_user_model, username: str, role: str | None):
    """A user with a password and ``role`` (None: no role at all)."""
    from apps.accounts.roles import set_role

    made = django_user_model.objects.create_user(username=username, password="s3cret-pass")
    if role is None:
        made.groups.clear()
    else:
        set_role(made, role)
    return made


@pytest.fixture
def user(django_user_model):
    """Alice, an operator: she may queue processing of given targets (most tests' actor)."""
    return make_user(django_user_model, "alice", "operator")


@pytest.fixture
def staff(django_user_model):
    """Sam, an admin (Django staff): everything, including training and the admin site."""
    return make_user(django_user_model, "sam", "admin")


@pytest.fixture
def viewer(django_user_model):
    return make_user(django_user_model, "vic", "viewer")


@pytest.fixture
def vetter(django_user_model):
    return make_user(django_user_model, "vera", "vetter")


@pytest.fixture
def adjudicator(django_user_model):
    return make_user(django_user_model, "ada", "adjudicator")


@pytest.fixture
def operator(django_user_model):
    return make_user(django_user_model, "otto", "operator")


@pytest.fixture
def admin_user(django_user_model):
    return make_user(django_user_model, "root", "admin")
