"""``manage.py load_demo``: ingest the real demo files (light curves, catalogues, GALEX products)."""

from __future__ import annotations

import json
from contextlib import nullcontext
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings

from apps.core.errors import GaiaError
from apps.jobs.foreground import enqueue_or_run


class Command(BaseCommand):
    help = "Load the demo data from GAIA_DEMO_DATA (default ../shared/data) as a Job with progress."

    def add_arguments(self, parser):  # noqa: ANN001
        parser.add_argument(
            "--demo-dir",
            help="folder laid out like ../shared/data (MANIFEST.md) instead of GAIA_DEMO_DATA; foreground only",
        )
        parser.add_argument("--skip", action="append", default=[], help="name of a step to skip (repeatable)")
        parser.add_argument("--enqueue", action="store_true", help="queue a job for a worker instead")
        parser.add_argument("--no-progress", action="store_true", help="no terminal progress bar")

    def handle(self, *args, **options):  # noqa: ANN002, ANN003
        params = {"skip": options["skip"]}
        demo_dir = options["demo_dir"]
        if demo_dir and options["enqueue"]:
            raise CommandError("a queued load_demo reads GAIA_DEMO_DATA on the worker: set that instead of --demo-dir")
        # Job parameters never carry a folder; this command (not a request) may point the setting elsewhere.
        folder = override_settings(GAIA_DEMO_DATA=Path(demo_dir).resolve()) if demo_dir else nullcontext()
        try:
            with folder:
                job = enqueue_or_run(
                    kind="load_demo", params=params, enqueue=options["enqueue"],
                    show_progress=not options["no_progress"],
                )
        except GaiaError as exc:
            raise CommandError(exc.message) from exc
        if options["enqueue"]:
            self.stdout.write(f"queued job {job.pk}")
            return
        if job.status != "succeeded":
            raise CommandError(f"load_demo job {job.pk} {job.status}: {job.error_summary}")
        self.stdout.write(json.dumps({"job": job.pk, "status": job.status, "report": job.result}, default=str))
        if job.result.get("errors"):
            raise CommandError(f"load_demo job {job.pk}: some steps failed: {job.result['errors']}")
