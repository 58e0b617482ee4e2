"""python manage.py fault_drill --kind KIND --kills N [--seed S]: SIGKILL real workers mid-job.

Starts ``dramatiq gaia_web.worker`` processes against the configured database, Redis and
DATA_ROOT, runs each kind once uninterrupted, then again while killing the worker's process group
at random moments N times in all; prints a results table and exits non-zero unless every drilled
job finished with the baseline's outputs and left nothing behind (see apps/jobs/drill.py).
"""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from apps.jobs.broker import broker
from apps.jobs.drill import Drill, results_table, scenarios

SCRATCH_MARKERS = ("test", "drill", "scratch")


class Command(BaseCommand):
    help = "Kill real workers at random moments of a job kind and check that nothing is lost or stuck."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--kind", required=True, help="a drill kind, or 'all' (see --list)")
        parser.add_argument("--kills", type=int, default=20, help="SIGKILLs that hit a running job, per kind")
        parser.add_argument("--seed", type=int, default=0, help="seed of the random kill moments")
        parser.add_argument("--kills-per-job", type=int, default=5,
                            help="at most this many kills of one job before a new one starts")  # fmt: skip
        parser.add_argument("--lease", type=int, default=5, help="GAIA_JOB_LEASE_SECONDS of the drill's workers")
        parser.add_argument("--json", type=Path, help="also write the full results as JSON to this file")
        parser.add_argument("--list", action="store_true", help="list the kinds and exit")
        parser.add_argument("--force", action="store_true",
                            help="run even though the database name does not look like a scratch one")  # fmt: skip

    def handle(self, *args, **options) -> None:
        known = scenarios()
        if options["list"]:
            for name, scenario in known.items():
                self.stdout.write(f"{name:10s} {scenario.job_kind:16s} compares {scenario.compared}")
            return
        kinds = list(known) if options["kind"] == "all" else [options["kind"]]
        unknown = [k for k in kinds if k not in known]
        if unknown:
            raise CommandError(f"unknown kind {unknown[0]!r}; known: {', '.join(known)} or all")
        name = connection.settings_dict["NAME"]
        if not options["force"] and not any(marker in name for marker in SCRATCH_MARKERS):
            raise CommandError(
                f"the drill writes, deletes and kills freely: point DATABASE_URL at a scratch database "
                f"(its name containing one of {', '.join(SCRATCH_MARKERS)}), not {name!r}; --force to insist"
            )
        # a SIGTERM unwinds like Ctrl-C, so the drill stops the workers it started
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
        broker.flush_all()  # the drill's workers must see only the drill's messages
        drill = Drill(
            kills=options["kills"], seed=options["seed"], kills_per_job=options["kills_per_job"],
            lease_s=options["lease"], say=lambda line: self.stdout.write(line),
        )  # fmt: skip
        self.stdout.write(f"worker logs: {drill.log_dir}")
        results = drill.run(kinds)
        self.stdout.write("")
        self.stdout.write(results_table(results))
        if options["json"]:
            options["json"].write_text(json.dumps([r.as_dict() for r in results], indent=2))
        if not all(r.ok for r in results):
            raise CommandError("the drill found problems (see the table)")
