"""Writes for access: API tokens (made, checked, revoked) and roles."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import ApiToken
from apps.accounts.roles import set_role
from apps.core.errors import InvalidInput, NotFound

TOKEN_PREFIX = "gaia_"
#: Characters of the token kept in clear (after ``gaia_``) so a list can say which token is which.
VISIBLE_CHARS = 8
#: last_used_at is written at most this often per token, so busy scripts do not write every call.
LAST_USED_RESOLUTION = timedelta(minutes=1)
MAX_EXPIRY_DAYS = 3650


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # the whole token: shown once, never stored


def token_digest(secret: str) -> str:
    """sha256 of a token. Tokens carry 256 random bits, so a fast hash is enough (no salt needed)."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def api_token_create(*, user, name: str = "", expires_days: int | None = None) -> NewToken:  # noqa: ANN001
    name = (name or "token").strip()[:100]
    if expires_days is not None and not 1 <= expires_days <= MAX_EXPIRY_DAYS:
        raise InvalidInput(f"expiry must be 1 to {MAX_EXPIRY_DAYS} days")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires_at = timezone.now() + timedelta(days=expires_days) if expires_days else None
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=secret[: len(TOKEN_PREFIX) + VISIBLE_CHARS],
        digest=token_digest(secret),
        expires_at=expires_at,
    )
    return NewToken(token=token, secret=secret)


def api_token_authenticate(secret: str):  # noqa: ANN201 - a django user or None
    """The active user owning ``secret`` when it is a usable token; records when it was last used."""
    if not secret or len(secret) > 200 or not secret.startswith(TOKEN_PREFIX):
        return None
    token = ApiToken.objects.usable().select_related("user").filter(digest=token_digest(secret)).first()
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def api_token_revoke(*, token_id: int, user=None) -> ApiToken:  # noqa: ANN001
    """Revoke a token; with ``user`` given, only one of that user's own."""
    tokens = ApiToken.objects.all() if user is None else ApiToken.objects.filter(user=user)
    with transaction.atomic():
        token = tokens.select_for_update().filter(pk=token_id).first()
        if token is None:
            raise NotFound(f"token {token_id} does not exist")
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
    return token


def user_set_role(*, username: str, role: str, create: bool = False):  # noqa: ANN201 - a django user
    """Give the user ``role``; with ``create``, make the account (no usable password) if missing."""
    users = get_user_model().objects
    user = users.filter(username=username).first()
    if user is None:
        if not create:
            raise NotFound(f"no user {username!r} (use --create to make one)")
        user = users.create_user(username=username)
    try:
        set_role(user, role)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    return user
