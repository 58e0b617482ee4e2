from django.apps import AppConfig


class LightcurvesConfig(AppConfig):
    name = "apps.lightcurves"
    label = "lightcurves"
