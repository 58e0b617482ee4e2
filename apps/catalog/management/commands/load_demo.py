"""``manage.py load_demo``: ingest the real demo files (light curves, catalogues, GALEX products)."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from apps.core.errors import GaiaError
from apps.jobs.foreground import enqueue_or_run


class Command(BaseCommand):
    help = "Load the demo data from GAIA_DEMO_DATA (default ../shared/data) as a Job with progress."

    def add_arguments(self, parser):  # noqa: ANN001
        parser.add_argument("--demo-dir", help="folder laid out like ../shared/data (MANIFEST.md)")
        parser.add_argument("--skip", action="append", default=[], help="name of a step to skip (repeatable)")
        parser.add_argument("--enqueue", action="store_true", help="queue a job for a worker instead")
        parser.add_argument("--no-progress", action="store_true", help="no terminal progress bar")

    def handle(self, *args, **options):  # noqa: ANN002, ANN003
        params = {"demo_dir": options["demo_dir"], "skip": options["skip"]}
        try:
            job = enqueue_or_run(
                kind="load_demo", params=params, enqueue=options["enqueue"], show_progress=not options["no_progress"]
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
