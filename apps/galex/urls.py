from django.urls import path

from apps.galex import views

urlpatterns = [
    path("galex/", views.eclipse_list, name="galex-eclipse-list"),
    path("galex/<int:eclipse_id>/", views.eclipse_detail, name="galex-eclipse-detail"),
    path("galex/<int:eclipse_id>/reduce/", views.eclipse_reduce, name="galex-eclipse-reduce"),
]
