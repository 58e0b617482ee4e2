"""Top-level URL map: pages per app, the admin, auth and the ninja API under /api/."""

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
    path("archive/", include("apps.archive.urls")),
    path("", include("apps.lightcurves.urls")),
    path("", include("apps.galex.urls")),
    path("", include("apps.ml.urls")),
    path("", include("apps.vetting.urls")),
    path("", include("apps.catalog.urls")),
]
