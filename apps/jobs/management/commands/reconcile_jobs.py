"""python manage.py reconcile_jobs [--once]: re-send lost job messages, re-queue jobs of dead workers."""

from __future__ import annotations

import json
import time

from django.conf import settings
from django.core.management.base import BaseCommand

from apps.jobs.reconcile import reconcile_once


class Command(BaseCommand):
    help = "Run the job reconciler once, or every GAIA_RECONCILE_SECONDS until interrupted."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--once", action="store_true", help="one pass, print what it did, exit")

    def handle(self, *args, once: bool, **options) -> None:
        while True:
            report = reconcile_once()
            if once:
                self.stdout.write(json.dumps(report.as_dict()))
                return
            time.sleep(max(1, settings.GAIA_RECONCILE_SECONDS))
