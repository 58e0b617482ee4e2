from django.contrib import admin, messages

from apps.jobs.models import Artifact, Job
from apps.jobs.services import job_cancel


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "status", "stage", "progress_done", "progress_total", "created_at", "requested_by")
    list_filter = ("status", "kind", "queue_name")
    readonly_fields = ("message_id", "attempts", "started_at", "finished_at", "heartbeat_at", "timings", "provenance", "result")
    actions = ["cancel_selected"]

    @admin.action(description="Cancel selected jobs")
    def cancel_selected(self, request, queryset):  # noqa: ANN001, ANN201
        cancelled = 0
        for job in queryset:
            if not job.is_finished:
                job_cancel(job=job)
                cancelled += 1
        self.message_user(request, f"Cancellation requested for {cancelled} job(s).", messages.INFO)


@admin.register(Artifact)
class ArtifactAdmin(admin.ModelAdmin):
    list_display = ("key", "version", "kind", "size_bytes", "created_at", "job")
    list_filter = ("kind",)
    search_fields = ("key",)
    raw_id_fields = ("job", "target")
