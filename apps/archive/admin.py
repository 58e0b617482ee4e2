"""Admin for the download ledger and TESS sector caches, plus the target action for the platform."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.archive.models import ArchiveFile, FileState, TessSector
from apps.archive.science.naming import parse_name
from apps.archive.services import DownloadSpec, download_enqueue, targets_fetch_enqueue
from apps.catalog.admin import TargetAdmin
from apps.core.errors import GaiaError


@admin.action(description="Fetch all light curves of selected targets")
def fetch_all_lightcurves(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet
) -> None:
    """Target admin action (add it to the Target admin's ``actions``): one download job per mission."""
    try:
        jobs = targets_fetch_enqueue(targets=list(queryset), user=request.user)
    except GaiaError as exc:
        modeladmin.message_user(request, exc.message, level=messages.ERROR)
        return
    ids = ", ".join(str(job.pk) for job in jobs)
    modeladmin.message_user(
        request, f"Queued download job(s) {ids} for {queryset.count()} target(s)."
    )


@admin.register(ArchiveFile)
class ArchiveFileAdmin(admin.ModelAdmin):
    list_display = (
        "filename",
        "mission",
        "quarter_or_sector",
        "state",
        "bytes",
        "attempts",
        "updated_at",
    )
    list_filter = ("state", "mission", "cadence")
    search_fields = ("filename", "sha256")
    readonly_fields = [f.name for f in ArchiveFile._meta.fields] + ["jobs"]
    actions = ["retry_selected"]

    @admin.action(description="Download selected files again (failed, missing or lost)")
    def retry_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        groups: dict[tuple[str, str], list] = {}
        for row in queryset.exclude(state=FileState.INGESTED):
            name = parse_name(row.filename)
            groups.setdefault(
                (name.mission, "short" if name.cadence == "short" else "long"), []
            ).append(name)
        queryset.exclude(state=FileState.INGESTED).update(state=FileState.PENDING)
        jobs = []
        for (mission, cadence), names in sorted(groups.items()):
            spec = DownloadSpec(
                mission=mission,
                identifiers=sorted({n.identifier for n in names}),
                cadence=cadence,
                seasons=sorted({n.season for n in names}),
                recheck_missing=True,
            )
            jobs.append(download_enqueue(spec=spec, user=request.user))
        self.message_user(request, f"Queued {len(jobs)} download job(s).")


@admin.register(TessSector)
class TessSectorAdmin(admin.ModelAdmin):
    list_display = ("sector", "n_files", "available", "fetched_at")
    readonly_fields = (
        "sector",
        "script_url",
        "script_sha256",
        "n_files",
        "available",
        "fetched_at",
    )


# The catalogue's target admin gets the archive's action (the catalog app does not import the archive).
TargetAdmin.actions = [*TargetAdmin.actions, fetch_all_lightcurves]
