from django.apps import AppConfig


class GalexConfig(AppConfig):
    name = "apps.galex"
    label = "galex"

    def ready(self) -> None:
        from apps.core.demo import register_demo_step
        from apps.galex.demo import load_galex_demo

        register_demo_step("galex", load_galex_demo, order=70)
