from django import forms
from django.contrib import admin, messages
from django.shortcuts import render

from apps.core.errors import GaiaError
from apps.galex.models import Eclipse
from apps.galex.params import COMPRESSIONS
from apps.jobs.services import job_enqueue


class ReprocessForm(forms.Form):
    depth = forms.FloatField(initial=30, min_value=1, max_value=10000, label="movie depth (s)")
    compression = forms.ChoiceField(choices=[(name, name) for name in COMPRESSIONS])
    burst = forms.BooleanField(required=False)


@admin.register(Eclipse)
class EclipseAdmin(admin.ModelAdmin):
    list_display = ("__str__", "number", "band", "source", "status", "legs", "updated_at")
    list_filter = ("band", "source", "status")
    search_fields = ("label",)
    readonly_fields = ("inputs", "warnings", "summary")
    actions = ["reprocess"]

    @admin.action(description="Reprocess selected eclipses with depth N")
    def reprocess(self, request, queryset):  # noqa: ANN001, ANN201
        if "apply" in request.POST:
            form = ReprocessForm(request.POST)
            if form.is_valid():
                queued = 0
                for eclipse in queryset:
                    try:
                        job_enqueue(
                            kind="reduce_eclipse",
                            params={"eclipse_id": eclipse.pk, **form.cleaned_data},
                            user=request.user,
                        )
                        queued += 1
                    except GaiaError as exc:
                        self.message_user(request, f"{eclipse}: {exc.message}", messages.ERROR)
                self.message_user(request, f"Queued {queued} reduction(s).", messages.INFO)
                return None
        else:
            form = ReprocessForm()
        return render(
            request,
            "galex/admin_reprocess.html",
            {"form": form, "eclipses": queryset, "action": "reprocess"},
        )
