"""The archive's science package and download engine import no Django."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    "module",
    [
        "apps.archive.science",
        "apps.archive.fetch",
        "apps.archive.transfer",
        "apps.archive.mirror",
        "apps.archive.durable",
    ],
)
def test_it_imports_without_django(module: str) -> None:
    code = (
        "import importlib, pkgutil, sys\n"
        f"mod = importlib.import_module('{module}')\n"
        "for info in pkgutil.walk_packages(getattr(mod, '__path__', []), mod.__name__ + '.'):\n"
        "    importlib.import_module(info.name)\n"
        "bad = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.'))\n"
        "assert not bad, bad\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
