"""python manage.py seed_scale [--targets N ...] [--drop]: a synthetic catalogue at full size (apps/scale/seed.py)."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from apps.core.errors import GaiaError
from apps.scale.seed import seed_drop, seed_scale


class Command(BaseCommand):
    help = "Write a synthetic catalogue (targets, TCEs, predictions, labels, jobs) with COPY, or --drop it."

    def add_arguments(self, parser):  # noqa: ANN001
        parser.add_argument("--targets", type=int, default=200_000)
        parser.add_argument("--tces", type=int, default=500_000)
        parser.add_argument("--predictions", type=int, default=1_000_000)
        parser.add_argument("--labels", type=int, default=100_000)
        parser.add_argument("--jobs", type=int, default=50_000)
        parser.add_argument("--seed", type=int, default=0, help="random seed (same seed, same rows)")
        parser.add_argument("--drop", action="store_true", help="remove everything an earlier seed_scale wrote")

    def handle(self, *args, **options):  # noqa: ANN002, ANN003
        log = self.stdout.write
        try:
            if options["drop"]:
                counts = seed_drop(log=log)
                self.stdout.write(json.dumps({"deleted": counts}))
                return
            record = seed_scale(targets=options["targets"], tces=options["tces"], predictions=options["predictions"],
                                labels=options["labels"], jobs=options["jobs"], seed=options["seed"], log=log)
        except GaiaError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(json.dumps(record))
