"""Entry module for ``dramatiq gaia_web.worker``: set up Django, then import every app's actors."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gaia_web.settings")
django.setup()

from apps.jobs.broker import broker  # noqa: E402,F401 - installs the broker
from apps.jobs.registry import autodiscover_tasks  # noqa: E402

autodiscover_tasks()
