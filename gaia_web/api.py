"""The ninja API root: one router per app, errors mapped to HTTP answers in one place."""

from __future__ import annotations

from django.http import HttpRequest

from apps.accounts.auth import GaiaNinjaAPI, apply_permission_table
from apps.archive.api import router as archive_router
from apps.catalog.api import router as catalog_router
from apps.core.errors import GaiaError, RateLimited
from apps.galex.api import router as galex_router
from apps.galex.target_api import router as galex_target_router
from apps.jobs.api import router as jobs_router
from apps.lightcurves.api import router as lightcurves_router
from apps.ml.api import router as ml_router
from apps.vetting.api import router as vetting_router

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


api.add_router("/", catalog_router)
api.add_router("/", jobs_router)
api.add_router("/archive/", archive_router)
api.add_router("/lightcurves/", lightcurves_router)
api.add_router("/galex/", galex_router)
api.add_router("/", galex_target_router)  # /targets/{id}/galex
api.add_router("/ml/", ml_router)
api.add_router("/vetting/", vetting_router)

# Every operation gets its gate from the one permission table (apps/accounts/permissions.py).
apply_permission_table(api)
