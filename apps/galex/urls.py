from django.urls import path

from apps.galex import upload, views

urlpatterns = [
    path("galex/", views.eclipse_list, name="galex-eclipse-list"),
    path("galex/upload/", upload.eclipse_upload, name="galex-eclipse-upload"),
    path("galex/<int:eclipse_id>/", views.eclipse_detail, name="galex-eclipse-detail"),
    path("galex/<int:eclipse_id>/reduce/", views.eclipse_reduce, name="galex-eclipse-reduce"),
]
