"""``manage.py warm_kernels``: compile every app's numba kernels into the cache (``NUMBA_CACHE_DIR``).

Each app that has numba kernels offers ``<app>.science.warm.warm()``, which calls them on tiny inputs
with the types its jobs use and returns seconds per step (a module's ``WARM_SETTINGS`` maps keywords of
its ``warm`` to the settings passed for them). ``make install`` and the Docker build run
this, so a fresh worker's first job loads compiled code instead of paying ~15 s of compilation.
"""

from __future__ import annotations

import importlib
import time

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand


def warm_modules() -> list:
    """The ``science.warm`` module of every project app that has one."""
    found = []
    for config in apps.get_app_configs():
        if not config.name.startswith("apps."):
            continue
        try:
            found.append(importlib.import_module(f"{config.name}.science.warm"))
        except ModuleNotFoundError as exc:
            if exc.name not in (f"{config.name}.science", f"{config.name}.science.warm"):
                raise
    return found


class Command(BaseCommand):
    help = "Compile the numba kernels on tiny inputs so cache=True stores them (run at install time)."
    requires_system_checks = []  # no database or other service is needed

    def handle(self, *args, **options):  # noqa: ANN002, ANN003
        start = time.perf_counter()
        self.stdout.write(f"numba cache: {settings.NUMBA_CACHE_DIR}")
        for module in warm_modules():
            # a module that needs site settings (GALEX: the calibration folder) names them
            needs = getattr(module, "WARM_SETTINGS", {})
            steps = module.warm(**{arg: getattr(settings, name, None) for arg, name in needs.items()})
            self.stdout.write(f"{module.__name__}: {sum(steps.values()):.1f} s ({len(steps)} steps)")
        self.stdout.write(f"kernels warm in {time.perf_counter() - start:.1f} s")
