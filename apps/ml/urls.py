from django.urls import path

from apps.ml import pages

urlpatterns = [
    path("models/", pages.model_list, name="ml-model-list"),
    path("models/<int:version_id>/", pages.model_detail, name="ml-model-detail"),
    path("targets/<int:target_id>/score/", pages.score_target, name="ml-score-target"),
]
