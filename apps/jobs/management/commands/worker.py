"""``manage.py worker``: run Dramatiq workers for GAIA web's queues (downloads, cpu, default)."""

from __future__ import annotations

import os
import sys

from django.core.management.base import BaseCommand

from apps.jobs.broker import QUEUES


class Command(BaseCommand):
    help = "Start Dramatiq worker processes consuming the site's queues (Ctrl-C stops them)."

    def add_arguments(self, parser):  # noqa: ANN001
        parser.add_argument("--processes", type=int, default=1)
        parser.add_argument("--threads", type=int, default=2)
        parser.add_argument("--queues", nargs="+", default=list(QUEUES), choices=list(QUEUES))

    def handle(self, *args, **options):  # noqa: ANN002, ANN003
        argv = [
            sys.executable, "-m", "dramatiq", "gaia_web.worker",
            "--processes", str(options["processes"]),
            "--threads", str(options["threads"]),
            "--queues", *options["queues"],
        ]
        self.stdout.write("exec " + " ".join(argv[2:]))
        os.execv(sys.executable, argv)
