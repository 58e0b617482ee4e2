from django.apps import AppConfig


class MlConfig(AppConfig):
    name = "apps.ml"
    label = "ml"

    def ready(self) -> None:
        from apps.core.demo import register_demo_step
        from apps.core.panels import register_panel
        from apps.jobs.report import register_report_link
        from apps.ml.demo import process_and_score_demo
        from apps.ml.panels import tce_panel
        from apps.ml.report_links import model_links

        register_panel("tce", tce_panel, order=5)
        register_report_link("model_version", "Models", model_links)
        register_demo_step("process and score", process_and_score_demo, order=60)
