from django.urls import path

from apps.galex import pages

urlpatterns = [
    path("galex/", pages.eclipse_list, name="galex-eclipse-list"),
    path("galex/<int:eclipse_id>/", pages.eclipse_detail, name="galex-eclipse-detail"),
    path("galex/<int:eclipse_id>/reduce/", pages.eclipse_reduce, name="galex-eclipse-reduce"),
]
