from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "apps.catalog"
    label = "catalog"

    def ready(self) -> None:
        from apps.catalog import demo_steps  # noqa: F401 - registers the demo steps
        from apps.catalog.integrity import lightcurve_references
        from apps.catalog.report_links import target_links, tce_links
        from apps.jobs.integrity import register_data_references
        from apps.jobs.report import register_report_link

        register_data_references(lightcurve_references, product_folder="lightcurves")

        register_report_link("target", "Targets", target_links)
        register_report_link("tce", "TCEs", tce_links)
