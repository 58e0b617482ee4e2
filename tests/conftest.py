"""Shared fixtures: where the real demo data lives, and a small world of users."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent

# Fixtures for a real Dramatiq worker on the real Redis (broker, worker), usable by every test.
pytest_plugins = ["tests.workers"]


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


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(username="alice", password="s3cret-pass")


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user(username="sam", password="s3cret-pass", is_staff=True)
