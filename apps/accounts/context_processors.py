"""Templates see the user's role (shown in the top bar)."""

from __future__ import annotations

from django.http import HttpRequest

from apps.accounts.roles import role_of


def access(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    return {"user_role": role_of(user) if user is not None else None}
