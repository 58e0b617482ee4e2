from django.apps import AppConfig


class LightcurvesConfig(AppConfig):
    name = "apps.lightcurves"
    label = "lightcurves"

    def ready(self) -> None:
        from apps.core.panels import register_panel
        from apps.lightcurves import admin  # noqa: F401 - adds admin actions to the target admin
        from apps.lightcurves.panels import (
            target_lightcurve_panel,
            target_panel,
            tce_facts,
            tce_panel,
        )

        register_panel("target", target_lightcurve_panel, order=0)
        register_panel("target", target_panel, order=10)
        register_panel("tce-facts", tce_facts)
        register_panel("tce", tce_panel, order=10)
