from django.urls import path

from apps.lightcurves import pages

urlpatterns = [
    path("targets/<int:target_id>/process/", pages.process, name="lightcurves-process"),
    path("targets/<int:target_id>/search/", pages.search, name="lightcurves-search"),
]
