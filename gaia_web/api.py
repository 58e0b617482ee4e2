"""The ninja API root: one router per app, errors mapped to HTTP answers in one place."""

from __future__ import annotations

import importlib

from django.http import HttpRequest
from ninja import NinjaAPI

from apps.core.errors import GaiaError

api = NinjaAPI(
    title="GAIA web API",
    version="1",
    description="Targets, TCEs, light curves, jobs, GALEX eclipses and model scores. "
    "Lists are paginated with `limit` (max 500) and `offset`.",
    docs_url="/docs",
)


@api.exception_handler(GaiaError)
def handle_gaia_error(request: HttpRequest, exc: GaiaError):
    body = {"detail": exc.message, "code": exc.code}
    if exc.details:
        body["details"] = exc.details
    return api.create_response(request, body, status=exc.status_code)


#: (url prefix, module holding ``router``); apps whose api module is absent are skipped.
ROUTERS = [
    ("/", "apps.catalog.api"),
    ("/", "apps.jobs.api"),
    ("/archive/", "apps.archive.api"),
    ("/lightcurves/", "apps.lightcurves.api"),
    ("/galex/", "apps.galex.api"),
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
