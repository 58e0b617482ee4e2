from django.apps import AppConfig


class VettingConfig(AppConfig):
    name = "apps.vetting"
    label = "vetting"

    def ready(self) -> None:
        from apps.core.panels import register_panel
        from apps.vetting.panels import tce_panel

        register_panel("tce", tce_panel, order=20)
