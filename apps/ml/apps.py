from django.apps import AppConfig


class MlConfig(AppConfig):
    name = "apps.ml"
    label = "ml"

    def ready(self) -> None:
        from apps.core.demo import register_demo_step
        from apps.core.panels import register_panel
        from apps.ml.demo import process_and_score_demo
        from apps.ml.panels import tce_panel

        register_panel("tce", tce_panel, order=5)
        register_demo_step("process and score", process_and_score_demo, order=60)
