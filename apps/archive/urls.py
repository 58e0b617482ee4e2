"""Archive pages: include as ``path("archive/", include("apps.archive.urls"))``."""

from django.urls import path

from apps.archive import views

app_name = "archive"

urlpatterns = [
    path("targets/<int:target_id>/fetch/", views.target_fetch, name="target_fetch"),
]
