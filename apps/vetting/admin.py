from django.contrib import admin

from apps.vetting.models import Adjudication, CatalogLabel, VettingClaim, VettingLabel, VettingState


@admin.register(VettingLabel)
class VettingLabelAdmin(admin.ModelAdmin):
    list_display = ("tce", "label", "confidence", "user", "created_at")
    list_filter = ("label", "confidence")
    raw_id_fields = ("tce",)


@admin.register(Adjudication)
class AdjudicationAdmin(admin.ModelAdmin):
    list_display = ("tce", "label", "user", "created_at")
    list_filter = ("label",)
    raw_id_fields = ("tce",)


@admin.register(VettingState)
class VettingStateAdmin(admin.ModelAdmin):
    list_display = ("tce", "status", "label", "n_labels", "n_people", "updated_at")
    list_filter = ("status",)
    raw_id_fields = ("tce",)


@admin.register(VettingClaim)
class VettingClaimAdmin(admin.ModelAdmin):
    list_display = ("tce", "user", "queue", "expires_at", "released_at")
    raw_id_fields = ("tce",)


@admin.register(CatalogLabel)
class CatalogLabelAdmin(admin.ModelAdmin):
    list_display = ("tce", "source", "label", "original")
    list_filter = ("source", "label")
    raw_id_fields = ("tce",)
