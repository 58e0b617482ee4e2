from django.apps import AppConfig


class ArchiveConfig(AppConfig):
    name = "apps.archive"
    label = "archive"

    def ready(self) -> None:
        from apps.archive.integrity import download_references
        from apps.jobs.integrity import register_data_references

        register_data_references(download_references)
