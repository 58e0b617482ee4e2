"""python manage.py check_data [--json]: exit 0 only when every product file matches its row."""

from __future__ import annotations

import json as jsonlib

from django.core.management.base import BaseCommand

from apps.jobs.integrity import data_check


class Command(BaseCommand):
    help = "Verify every Artifact/LightCurve/download file against the database; list orphans and leftovers."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--json", action="store_true", help="print the report as JSON")

    def handle(self, *args, **options) -> None:
        report = data_check()
        if options["json"]:
            self.stdout.write(_dumps(report.as_dict()))
        else:
            self.stdout.write(f"checked {report.checked} files: {'consistent' if report.consistent else 'NOT consistent'}")
            for name in ("missing", "corrupt", "orphans", "leftovers"):
                for entry in getattr(report, name):
                    self.stdout.write(f"  {name[:-1] if name.endswith('s') else name}: {entry}")
        if not report.consistent:
            raise SystemExit(1)


def _dumps(data: dict) -> str:
    return jsonlib.dumps(data, indent=2)
