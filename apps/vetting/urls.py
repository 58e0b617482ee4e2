from django.urls import path

from apps.vetting import views

urlpatterns = [
    path("tces/<int:tce_id>/label/", views.label, name="vetting-label"),
    path("vet/tces/<int:tce_id>/", views.vet_tce, name="vet-tce"),
    path("vet/", views.vet_queues, name="vet-queues"),
    path("vet/next/", views.vet_next, name="vet-next"),
    path("vet/stats/", views.vet_stats, name="vet-stats"),
    path("vet/conflicts/", views.vet_conflicts, name="vet-conflicts"),
    path("vet/tces/<int:tce_id>/adjudicate/", views.vet_adjudicate, name="vet-adjudicate"),
    path("vet/export/", views.vet_export, name="vet-export"),
]
