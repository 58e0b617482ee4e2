from django.contrib import admin, messages

from apps.catalog.admin import TargetAdmin, TCEAdmin
from apps.jobs.admin_actions import target_job_action
from apps.jobs.services import job_enqueue
from apps.ml.models import ModelVersion, Prediction


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ("name", "task", "preset", "is_default", "temperature", "created_at")
    list_filter = ("task", "is_default")
    readonly_fields = ("weights_sha256", "manifest", "metrics")


@admin.register(Prediction)
class PredictionAdmin(admin.ModelAdmin):
    list_display = ("tce", "model_version", "probability", "raw_score", "created_at", "job")
    list_filter = ("model_version",)
    raw_id_fields = ("tce", "job")


score_targets = target_job_action(
    name="score_targets", kind="infer",
    description="Score the TCEs of selected targets with the default model",
    done="Queued scoring for {n} target(s).",
)


@admin.action(description="(Re)score selected TCEs with the default model")
def score_tces(modeladmin, request, queryset):  # noqa: ANN001, ANN201
    job = job_enqueue(kind="infer", params={"tce_ids": list(queryset.values_list("pk", flat=True))}, user=request.user)
    modeladmin.message_user(request, f"Queued job {job.pk}.", messages.INFO)


TargetAdmin.actions = [*TargetAdmin.actions, score_targets]
TCEAdmin.actions = [*TCEAdmin.actions, score_tces]
