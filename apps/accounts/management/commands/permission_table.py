"""python manage.py permission_table [--write-readme]: print the permission table as markdown."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.management.base import BaseCommand

from apps.accounts.permissions import markdown_tables

START, END = "<!-- permission-table -->", "<!-- /permission-table -->"


class Command(BaseCommand):
    help = "Print the permission table (pages, API operations, job kinds) as markdown."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--write-readme", action="store_true", help="replace the table in README.md")

    def handle(self, *args, write_readme: bool, **options) -> None:
        table = markdown_tables()
        if not write_readme:
            self.stdout.write(table)
            return
        readme = settings.BASE_DIR / "README.md"
        text = readme.read_text()
        pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
        if not pattern.search(text):
            raise SystemExit(f"README.md has no {START} … {END} block")
        readme.write_text(pattern.sub(lambda _m: f"{START}\n{table}\n{END}", text))
        self.stdout.write("README.md permission table rewritten")
