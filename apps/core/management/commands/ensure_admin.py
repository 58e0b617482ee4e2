"""``manage.py ensure_admin``: create the local ``admin`` superuser once (password in var/admin-password)."""

from __future__ import annotations

import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create a staff superuser for local use if none exists (ADMIN_PASSWORD or a generated one)."

    def add_arguments(self, parser):  # noqa: ANN001
        parser.add_argument("--username", default=os.environ.get("ADMIN_USERNAME", "admin"))

    def handle(self, *args, **options):  # noqa: ANN002, ANN003
        users = get_user_model()
        username = options["username"]
        if users.objects.filter(username=username).exists():
            self.stdout.write(f"user {username!r} exists")
            return
        password_file = settings.VAR_DIR / "admin-password"
        password = os.environ.get("ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        users.objects.create_superuser(username=username, email="", password=password)
        if not os.environ.get("ADMIN_PASSWORD"):
            password_file.parent.mkdir(parents=True, exist_ok=True)
            password_file.write_text(password + "\n")
            password_file.chmod(0o600)
        self.stdout.write(f"created superuser {username!r}; password in {password_file}")
