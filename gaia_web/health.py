"""``/healthz`` for the container healthcheck, answered before host validation and SSL redirect.

The Docker HEALTHCHECK calls ``http://127.0.0.1:8000/healthz``: plain HTTP, ``Host: 127.0.0.1``. Behind
Django's usual middleware that request gets a 400 (DisallowedHost) once ``ALLOWED_HOSTS`` names the
public host, or a redirect to https. :class:`HealthzMiddleware` therefore sits first in ``MIDDLEWARE``
and answers ``GET``/``HEAD /healthz`` itself, without reading the Host header.

The check is cheap but real: one ``SELECT 1`` on the default database (a web process without its
database cannot serve a page). 200 ``ok`` when it answers, 503 ``database unavailable`` when not.
Redis is not checked: pages render without it; only enqueuing jobs needs it.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse

HEALTHZ_PATH = "/healthz"

log = logging.getLogger(__name__)


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        log.warning("healthz: database check failed: %s", exc)
        return False
    return True


def healthz(request: HttpRequest) -> HttpResponse:
    """200 ``ok`` when the database answers, else 503; never cached."""
    if database_ok():
        response = HttpResponse("ok\n", content_type="text/plain")
    else:
        response = HttpResponse("database unavailable\n", content_type="text/plain", status=503)
    response["Cache-Control"] = "no-store"
    return response


class HealthzMiddleware:
    """First in MIDDLEWARE: answers GET/HEAD /healthz for any Host, over plain HTTP."""

    def __init__(self, get_response):  # noqa: ANN001 - Django middleware signature
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == HEALTHZ_PATH and request.method in ("GET", "HEAD"):
            return healthz(request)
        return self.get_response(request)
