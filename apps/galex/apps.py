from django.apps import AppConfig


class GalexConfig(AppConfig):
    name = "apps.galex"
    label = "galex"
