"""The science packages must import no Django: they are reusable outside the site."""

from __future__ import annotations

import subprocess
import sys

import pytest

SCIENCE_PACKAGES = [
    "apps.archive.science",
    "apps.lightcurves.science",
    "apps.galex.science",
    "apps.ml.science",
    "apps.vetting.science",
]


@pytest.mark.parametrize("package", SCIENCE_PACKAGES)
def test_it_imports_without_django(package: str) -> None:
    code = (
        "import importlib, pkgutil, sys\n"
        f"pkg = importlib.import_module('{package}')\n"
        "for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "    importlib.import_module(info.name)\n"
        "bad = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.'))\n"
        "assert not bad, bad\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
