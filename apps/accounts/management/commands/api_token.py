"""python manage.py api_token create USERNAME [--name N] [--expires-days D] | revoke ID | list USERNAME"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from apps.accounts import selectors, services
from apps.core.errors import GaiaError


class Command(BaseCommand):
    help = "Create (prints the token once), revoke or list API tokens."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="make a token and print it once")
        create.add_argument("username")
        create.add_argument("--name", default="cli")
        create.add_argument("--expires-days", type=int, default=None)
        revoke = sub.add_parser("revoke", help="revoke a token by id")
        revoke.add_argument("token_id", type=int)
        listing = sub.add_parser("list", help="a user's tokens (prefix only)")
        listing.add_argument("username")

    def handle(self, *args, action: str, **options) -> None:
        try:
            getattr(self, f"_{action}")(**options)
        except GaiaError as exc:
            raise CommandError(exc.message) from exc

    def _user(self, username: str):  # noqa: ANN202
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user {username!r}")
        return user

    def _create(self, *, username: str, name: str, expires_days: int | None, **_) -> None:
        made = services.api_token_create(user=self._user(username), name=name, expires_days=expires_days)
        self.stderr.write(f"token {made.token.pk} ({made.token.name}) for {username}; it is shown only now:")
        self.stdout.write(made.secret)

    def _revoke(self, *, token_id: int, **_) -> None:
        token = services.api_token_revoke(token_id=token_id)
        self.stdout.write(f"revoked token {token.pk} ({token.prefix}…) of {token.user.username}")

    def _list(self, *, username: str, **_) -> None:
        for t in selectors.api_tokens_of(user=self._user(username)):
            state = "revoked" if t.revoked_at else "expired" if t.is_expired else "active"
            expires = t.expires_at.isoformat(timespec="seconds") if t.expires_at else "never"
            used = t.last_used_at.isoformat(timespec="seconds") if t.last_used_at else "never"
            self.stdout.write(f"{t.pk}\t{t.prefix}…\t{t.name}\t{state}\texpires {expires}\tlast used {used}")
