"""What the site believes about the client when a reverse proxy may sit in front (``GAIA_BEHIND_PROXY``).

Headers such as ``X-Forwarded-For`` and ``X-Forwarded-Proto`` are written by whoever sends the request,
so they are trusted only when ``GAIA_BEHIND_PROXY=1`` says that a proxy we run terminates every
connection and sets them. Without it a client could claim any address (and dodge the login lockout)
or claim https.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def proxy_ssl_header(behind_proxy: bool) -> tuple[str, str] | None:
    """``SECURE_PROXY_SSL_HEADER``: trust ``X-Forwarded-Proto: https`` only behind our proxy."""
    return ("HTTP_X_FORWARDED_PROTO", "https") if behind_proxy else None


def client_ip(request: HttpRequest) -> str | None:
    """The client address used by the login lockout (``AXES_CLIENT_IP_CALLABLE``).

    Behind the proxy, the last ``X-Forwarded-For`` entry is the one our proxy appended (the address
    that connected to it); entries left of it are whatever the client sent and are ignored. Otherwise
    the TCP peer, ``REMOTE_ADDR``.
    """
    if getattr(settings, "GAIA_BEHIND_PROXY", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-1]
    return request.META.get("REMOTE_ADDR") or None
