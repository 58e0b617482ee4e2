from django.urls import path

from apps.catalog import views

urlpatterns = [
    path("", views.home, name="home"),
    path("targets/", views.target_list, name="target-list"),
    path("targets/<int:target_id>/", views.target_detail, name="target-detail"),
    path("tces/", views.tce_list, name="tce-list"),
    path("tces/<int:tce_id>/", views.tce_detail, name="tce-detail"),
]
