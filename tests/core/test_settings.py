"""Settings read from the environment fail loudly; production settings pass the deploy checks."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gaia_web.env import ImproperSetting, env_bool, env_int, persistent_secret_key

ROOT = Path(__file__).resolve().parents[2]


def test_it_parses_booleans_and_refuses_nonsense(monkeypatch):
    monkeypatch.setenv("X_FLAG", "yes")
    assert env_bool("X_FLAG", False) is True
    monkeypatch.setenv("X_FLAG", "maybe")
    with pytest.raises(ImproperSetting):
        env_bool("X_FLAG", False)
    monkeypatch.setenv("X_NUM", "twelve")
    with pytest.raises(ImproperSetting):
        env_int("X_NUM", 1)


def test_it_generates_the_secret_key_once(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = persistent_secret_key(tmp_path)
    assert first == persistent_secret_key(tmp_path) and len(first) > 40


def test_it_passes_the_deploy_checks_with_production_settings(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_SETTINGS_MODULE": "gaia_web.settings",
        "DEBUG": "0",
        "SECRET_KEY": "x" * 30 + "-production-secret-key-with-entropy-1234567890",
        "ALLOWED_HOSTS": "gaia.example.org",
        "GAIA_VAR_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
