from django.apps import AppConfig


class ScaleConfig(AppConfig):
    name = "apps.scale"
    verbose_name = "Scale: the synthetic full-size catalogue (manage.py seed_scale)"
