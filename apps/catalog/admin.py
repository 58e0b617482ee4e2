from django.contrib import admin

from apps.catalog.models import TCE, LightCurve, Target


class TCEInline(admin.TabularInline):
    model = TCE
    extra = 0
    fields = ("tce_number", "source", "release", "period_days", "duration_hours", "depth_ppm", "snr", "disposition")
    show_change_link = True


@admin.register(Target)
class TargetAdmin(admin.ModelAdmin):
    list_display = ("display_id", "name", "mission", "magnitude", "teff", "radius", "stellar_source")
    list_filter = ("mission", "stellar_source")
    search_fields = ("identifier", "name", "aliases")
    inlines = [TCEInline]
    actions = []  # other apps append admin actions (fetch light curves, process, score)


@admin.register(TCE)
class TCEAdmin(admin.ModelAdmin):
    list_display = ("__str__", "period_days", "duration_hours", "depth_ppm", "snr", "disposition", "source", "release")
    list_filter = ("mission", "source", "release", "disposition")
    search_fields = ("target__identifier", "target__name")
    raw_id_fields = ("target",)
    actions = []


@admin.register(LightCurve)
class LightCurveAdmin(admin.ModelAdmin):
    list_display = ("__str__", "n_points", "time_start", "time_end", "source_filename")
    list_filter = ("mission", "cadence")
    search_fields = ("target__identifier", "source_filename")
    raw_id_fields = ("target",)
