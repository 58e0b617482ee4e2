"""Django settings, all read from the environment with defaults that make a fresh clone run.

The defaults point at the project-local PostgreSQL and Redis that ``scripts/services`` starts
(see README "Configuration"). Production sets ``DEBUG=0``, ``SECRET_KEY`` and ``ALLOWED_HOSTS``.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url

from gaia_web.env import (
    env_bool,
    env_int,
    env_list,
    env_path,
    env_str,
    persistent_secret_key,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = env_path("GAIA_VAR_DIR", BASE_DIR / "var")

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = persistent_secret_key(VAR_DIR)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "apps.core",
    "apps.jobs",
    "apps.catalog",
    "apps.archive",
    "apps.lightcurves",
    "apps.galex",
    "apps.ml",
    "apps.vetting",
    "apps.plots",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "gaia_web.urls"
WSGI_APPLICATION = "gaia_web.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Services -------------------------------------------------------------------------------
# Defaults match `scripts/services start run` (project-local, non-standard loopback ports).
DEFAULT_DATABASE_URL = "postgres://gaia@127.0.0.1:55432/gaia"
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", DEFAULT_DATABASE_URL), conn_max_age=env_int("DB_CONN_MAX_AGE", 0)
    )
}
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:56379/0")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Files ----------------------------------------------------------------------------------
# DATA_ROOT holds product files (Parquet series, FITS images, model weights); rows reference them.
DATA_ROOT = env_path("DATA_ROOT", VAR_DIR / "data")
_default_demo = (BASE_DIR.parent / "shared" / "data").resolve()
GAIA_DEMO_DATA = env_path("GAIA_DEMO_DATA", _default_demo)
GALEX_CAL_DIR = env_path("GAIA_GALEX_CAL_DIR", GAIA_DEMO_DATA / "galex" / "cal_data")

# --- Archive endpoints (overridable so tests and mirrors can point elsewhere) ----------------
GAIA_MAST_URL = env_str("GAIA_MAST_URL", "https://mast.stsci.edu")
GAIA_MAST_ARCHIVE_URL = env_str("GAIA_MAST_ARCHIVE_URL", "https://archive.stsci.edu")
GAIA_EXOARCHIVE_URL = env_str("GAIA_EXOARCHIVE_URL", "https://exoplanetarchive.ipac.caltech.edu")
GAIA_DOWNLOAD_CONCURRENCY = env_int("GAIA_DOWNLOAD_CONCURRENCY", 16)

# --- Jobs -----------------------------------------------------------------------------------
# Progress writes are throttled to at most this many per second per job.
GAIA_PROGRESS_MAX_PER_SECOND = env_int("GAIA_PROGRESS_MAX_PER_SECOND", 2)
# Tests and `make run` set this so enqueued jobs run in the same process (no worker needed).
GAIA_JOBS_EAGER = env_bool("GAIA_JOBS_EAGER", False)

def _bokehjs_dir() -> str:
    """BokehJS of the installed bokeh package, served by whitenoise (no CDN)."""
    from bokeh.util.paths import bokehjs_path

    return str(Path(bokehjs_path()) / "js")


# --- Auth, i18n, static ----------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static", ("bokeh", _bokehjs_dir())]
STATIC_ROOT = env_path("STATIC_ROOT", VAR_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# BokehJS is served from the installed bokeh package, never a CDN (see apps/plots).
WHITENOISE_USE_FINDERS = True

# --- Production hardening (active whenever DEBUG is off) --------------------------------------
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_CONTENT_TYPE_NOSNIFF = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- API --------------------------------------------------------------------------------------
NINJA_PAGINATION_PER_PAGE = env_int("API_PAGE_SIZE", 50)
NINJA_PAGINATION_MAX_LIMIT = env_int("API_MAX_PAGE_SIZE", 500)
#: Points returned for a light-curve series unless the caller asks for the full series.
API_SERIES_MAX_POINTS = env_int("API_SERIES_MAX_POINTS", 5000)
