"""Reads for access: a user's tokens."""

from __future__ import annotations

from apps.accounts.models import ApiToken


def api_tokens_of(*, user) -> list[ApiToken]:  # noqa: ANN001
    return list(ApiToken.objects.filter(user=user).order_by("-created_at", "-id"))
