from django.urls import path

from apps.catalog import pages

urlpatterns = [
    path("", pages.home, name="home"),
    path("targets/", pages.target_list, name="target-list"),
    path("targets/<int:target_id>/", pages.target_detail, name="target-detail"),
    path("tces/", pages.tce_list, name="tce-list"),
    path("tces/<int:tce_id>/", pages.tce_detail, name="tce-detail"),
]
