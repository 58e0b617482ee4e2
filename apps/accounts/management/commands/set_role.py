"""python manage.py set_role USERNAME ROLE [--create]"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from apps.accounts.roles import ROLES
from apps.accounts.services import user_set_role
from apps.core.errors import GaiaError


class Command(BaseCommand):
    help = f"Give a user one role: {', '.join(ROLES)} (admin also opens the Django admin)."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("username")
        parser.add_argument("role", choices=ROLES)
        parser.add_argument("--create", action="store_true", help="make the account if it does not exist")

    def handle(self, *args, username: str, role: str, create: bool, **options) -> None:
        try:
            user = user_set_role(username=username, role=role, create=create)
        except GaiaError as exc:
            raise CommandError(exc.message) from exc
        note = "" if user.has_usable_password() else " (no password yet: `manage.py changepassword`)"
        self.stdout.write(f"{user.username} is now {role}{note}")
