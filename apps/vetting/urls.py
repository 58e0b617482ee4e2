from django.urls import path

from apps.vetting import views

urlpatterns = [path("tces/<int:tce_id>/label/", views.label, name="vetting-label")]
