from django.urls import path

from apps.ml import views

urlpatterns = [
    path("models/", views.model_list, name="ml-model-list"),
    path("models/<int:version_id>/", views.model_detail, name="ml-model-detail"),
    path("targets/<int:target_id>/score/", views.score_target, name="ml-score-target"),
]
