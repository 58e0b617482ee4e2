from django.contrib import admin, messages

from apps.catalog.admin import TargetAdmin
from apps.jobs.services import job_enqueue


@admin.action(description="Reprocess selected targets (views for every TCE, new versions)")
def process_targets(modeladmin, request, queryset):  # noqa: ANN001, ANN201
    for target in queryset:
        job_enqueue(kind="process_target", params={"target_id": target.pk}, targets=[target], user=request.user)
    modeladmin.message_user(request, f"Queued processing of {queryset.count()} target(s).", messages.INFO)


@admin.action(description="Search selected targets for transits (BLS)")
def search_targets(modeladmin, request, queryset):  # noqa: ANN001, ANN201
    for target in queryset:
        job_enqueue(kind="search_target", params={"target_id": target.pk}, targets=[target], user=request.user)
    modeladmin.message_user(request, f"Queued searches of {queryset.count()} target(s).", messages.INFO)


TargetAdmin.actions = [*TargetAdmin.actions, process_targets, search_targets]
