from django.apps import AppConfig


class GalexConfig(AppConfig):
    name = "apps.galex"
    label = "galex"

    def ready(self) -> None:
        from apps.core.demo import register_demo_step
        from apps.core.panels import register_panel
        from apps.galex.demo import load_galex_demo
        from apps.galex.panels import target_panel
        from apps.galex.report_links import eclipse_links
        from apps.jobs.report import register_report_link

        register_demo_step("galex", load_galex_demo, order=70)
        register_panel("target", target_panel, order=40)
        register_report_link("eclipse", "Eclipses", eclipse_links)
