from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "apps.jobs"
    label = "jobs"

    def ready(self) -> None:
        # Every process (web, worker, shell) must know which actor handles which job kind.
        from apps.jobs.registry import autodiscover_tasks

        autodiscover_tasks()
