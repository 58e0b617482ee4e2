"""The user's API tokens: list, create (the token is shown once), revoke."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.accounts import selectors, services
from apps.core.errors import GaiaError


def tokens(request: HttpRequest) -> HttpResponse:
    new_secret = None
    if request.method == "POST":
        raw_days = (request.POST.get("expires_days") or "").strip()
        try:
            days = int(raw_days) if raw_days else None
            created = services.api_token_create(
                user=request.user, name=request.POST.get("name", ""), expires_days=days
            )
            new_secret = created.secret
        except ValueError:
            messages.error(request, "Expiry must be a whole number of days.")
        except GaiaError as exc:
            messages.error(request, exc.message)
    context = {"tokens": selectors.api_tokens_of(user=request.user), "new_secret": new_secret}
    return render(request, "accounts/tokens.html", context)


@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    try:
        token = services.api_token_revoke(token_id=token_id, user=request.user)
        messages.info(request, f"Token {token.name} ({token.prefix}…) revoked.")
    except GaiaError as exc:
        messages.error(request, exc.message)
    return redirect("account-tokens")
