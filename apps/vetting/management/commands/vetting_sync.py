"""Copy TCEs and the default model's scores into the vetting queue rows.

The queues do this themselves for new TCEs and new scores; ``--full`` also picks up changed SNRs and
catalogue dispositions of TCEs already copied (e.g. after re-importing a catalogue).

    python manage.py vetting_sync [--full]
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from apps.vetting.services import queue_rows_sync


class Command(BaseCommand):
    help = "Bring the vetting queue rows up to date (new TCEs and scores; --full: everything)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--full", action="store_true", help="recopy every TCE and score")

    def handle(self, *args, **options) -> None:
        self.stdout.write(json.dumps(queue_rows_sync(full=options["full"])))
