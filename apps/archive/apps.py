from django.apps import AppConfig


class ArchiveConfig(AppConfig):
    name = "apps.archive"
    label = "archive"

    def ready(self) -> None:
        from apps.archive.demo import load_lightcurves, load_tables
        from apps.archive.integrity import download_references
        from apps.core.demo import register_demo_step
        from apps.jobs.integrity import register_data_references

        register_data_references(download_references)
        register_demo_step("catalogue tables", load_tables, order=10)
        register_demo_step("light curves", load_lightcurves, order=20)
