from django.contrib import admin

from apps.vetting.models import VettingLabel


@admin.register(VettingLabel)
class VettingLabelAdmin(admin.ModelAdmin):
    list_display = ("tce", "label", "user", "created_at")
    list_filter = ("label",)
    raw_id_fields = ("tce",)
