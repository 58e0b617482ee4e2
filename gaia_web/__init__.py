"""GAIA web: Django project package (settings, urls, API root, Dramatiq setup)."""

__version__ = "0.1.0"
