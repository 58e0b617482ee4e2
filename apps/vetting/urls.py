from django.urls import path

from apps.vetting import pages

urlpatterns = [
    path("tces/<int:tce_id>/label/", pages.label, name="vetting-label"),
    path("vet/tces/<int:tce_id>/", pages.vet_tce, name="vet-tce"),
    path("vet/", pages.vet_queues, name="vet-queues"),
    path("vet/next/", pages.vet_next, name="vet-next"),
    path("vet/stats/", pages.vet_stats, name="vet-stats"),
    path("vet/conflicts/", pages.vet_conflicts, name="vet-conflicts"),
    path("vet/tces/<int:tce_id>/adjudicate/", pages.vet_adjudicate, name="vet-adjudicate"),
    path("vet/export/", pages.vet_export, name="vet-export"),
]
