"""The README's permission table is the code's (`python manage.py permission_table --write-readme`)."""

import re

from apps.accounts.management.commands.permission_table import END, START
from apps.accounts.permissions import markdown_tables
from tests.conftest import REPO_ROOT


def test_the_readme_shows_the_permission_table_of_the_code():
    readme = (REPO_ROOT / "README.md").read_text()
    block = re.search(re.escape(START) + r"\n(.*?)\n" + re.escape(END), readme, re.S)
    assert block, "README.md lacks the permission table block"
    assert block.group(1) == markdown_tables(), "stale: run `python manage.py permission_table --write-readme`"
