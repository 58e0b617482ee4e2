"""Archive pages: include as ``path("archive/", include("apps.archive.urls"))``."""

from django.urls import path

from apps.archive import pages

app_name = "archive"

urlpatterns = [
    path("targets/<int:target_id>/fetch/", pages.target_fetch, name="target_fetch"),
]
