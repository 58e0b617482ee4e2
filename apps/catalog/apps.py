from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "apps.catalog"
    label = "catalog"

    def ready(self) -> None:
        from apps.catalog.demo_steps import load_names, refresh_statistics
        from apps.catalog.integrity import lightcurve_references
        from apps.catalog.report_links import target_links, tce_links
        from apps.core.demo import register_demo_step
        from apps.jobs.integrity import register_data_references
        from apps.jobs.report import register_report_link

        register_demo_step("target names", load_names, order=30)
        register_demo_step("planner statistics", refresh_statistics, order=35)
        register_demo_step("planner statistics after scoring", refresh_statistics, order=65)

        register_data_references(lightcurve_references, product_folder="lightcurves")

        register_report_link("target", "Targets", target_links)
        register_report_link("tce", "TCEs", tce_links)
