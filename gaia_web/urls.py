"""Top-level URL map: pages per app, the admin, auth and the ninja API under /api/."""

import importlib

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from gaia_web.api import api
from gaia_web.health import healthz

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("healthz", healthz, name="healthz"),  # answered first by HealthzMiddleware; kept for reverse()
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("apps.accounts.urls")),
    path("", include("apps.jobs.urls")),
]

urlpatterns.append(path("archive/", include("apps.archive.urls")))

# Apps with pages of their own; an app without urls.py yet is skipped.
for module_name in ("apps.lightcurves.urls", "apps.galex.urls", "apps.ml.urls", "apps.vetting.urls"):
    try:
        importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        continue
    urlpatterns.append(path("", include(module_name)))

urlpatterns.append(path("", include("apps.catalog.urls")))
