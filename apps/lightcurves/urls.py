from django.urls import path

from apps.lightcurves import views

urlpatterns = [
    path("targets/<int:target_id>/process/", views.process, name="lightcurves-process"),
    path("targets/<int:target_id>/search/", views.search, name="lightcurves-search"),
]
