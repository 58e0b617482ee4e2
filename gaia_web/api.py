"""The ninja API root: one router per app, errors mapped to HTTP answers in one place."""

from __future__ import annotations

import importlib

from django.http import HttpRequest

from apps.accounts.auth import GaiaNinjaAPI, apply_permission_table
from apps.core.errors import GaiaError, RateLimited

api = GaiaNinjaAPI(
    title="GAIA web API",
    version="1",
    description="Targets, TCEs, light curves, jobs, GALEX eclipses and model scores. "
    "Lists are paginated with `limit` (max 500) and `offset`. Scripts authenticate with "
    "`Authorization: Bearer <token>` (see /account/tokens/); browsers with their session and CSRF token. "
    "What each role may call is the permission table in the README (\"Access and roles\").",
    docs_url="/docs",
)


@api.exception_handler(GaiaError)
def handle_gaia_error(request: HttpRequest, exc: GaiaError):
    body = {"detail": exc.message, "code": exc.code}
    if exc.details:
        body["details"] = exc.details
    response = api.create_response(request, body, status=exc.status_code)
    if isinstance(exc, RateLimited):
        response["Retry-After"] = str(exc.retry_after)
    return response


#: (url prefix, module holding ``router``); apps whose api module is absent are skipped.
ROUTERS = [
    ("/", "apps.catalog.api"),
    ("/", "apps.jobs.api"),
    ("/archive/", "apps.archive.api"),
    ("/lightcurves/", "apps.lightcurves.api"),
    ("/galex/", "apps.galex.api"),
    ("/", "apps.galex.target_api"),  # /targets/{id}/galex
    ("/ml/", "apps.ml.api"),
    ("/vetting/", "apps.vetting.api"),
]

for prefix, module_name in ROUTERS:
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        continue
    api.add_router(prefix, module.router)

# Every operation gets its gate from the one permission table (apps/accounts/permissions.py).
apply_permission_table(api)
