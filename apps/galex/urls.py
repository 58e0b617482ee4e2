from django.urls import path

from apps.galex import pages, upload

urlpatterns = [
    path("galex/", pages.eclipse_list, name="galex-eclipse-list"),
    path("galex/upload/", upload.eclipse_upload, name="galex-eclipse-upload"),
    path("galex/<int:eclipse_id>/", pages.eclipse_detail, name="galex-eclipse-detail"),
    path("galex/<int:eclipse_id>/reduce/", pages.eclipse_reduce, name="galex-eclipse-reduce"),
]
