from django.apps import AppConfig


class PlotsConfig(AppConfig):
    name = "apps.plots"
    label = "plots"
