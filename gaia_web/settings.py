"""Django settings, all read from the environment with defaults that make a fresh clone run.

The defaults point at the project-local PostgreSQL and Redis that ``scripts/services`` starts
(see README "Configuration"). Production sets ``DEBUG=0``, ``SECRET_KEY`` and ``ALLOWED_HOSTS``.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url

from gaia_web import __version__
from gaia_web.env import (
    env_bool,
    env_int,
    env_list,
    env_path,
    env_str,
    persistent_secret_key,
    products_storage,
)
from gaia_web.proxy import proxy_ssl_header

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = env_path("GAIA_VAR_DIR", BASE_DIR / "var")

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = persistent_secret_key(VAR_DIR)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Set only when a reverse proxy we run terminates every connection: then X-Forwarded-Proto (https
# detection) and the last X-Forwarded-For hop (client address for the login lockout) are trusted.
GAIA_BEHIND_PROXY = env_bool("GAIA_BEHIND_PROXY", False)

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
    "ninja",  # serves /api/docs with its bundled Swagger UI (static files), not from a CDN
    "axes",  # login throttling and lockout (README "Access and roles")
    "apps.core",
    "apps.accounts",
    "apps.jobs",
    "apps.catalog",
    "apps.archive",
    "apps.lightcurves",
    "apps.galex",
    "apps.ml",
    "apps.vetting",
    "apps.plots",
    "apps.scale",
]

MIDDLEWARE = [
    # First: answers /healthz before host validation and the SSL redirect (container healthcheck).
    "gaia_web.health.HealthzMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "apps.accounts.middleware.PagePermissionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Keep last: turns a lockout flagged during authentication into the lockout page.
    "axes.middleware.AxesMiddleware",
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
                "apps.accounts.context_processors.access",
            ],
        },
    },
]

# --- Services -------------------------------------------------------------------------------
# Defaults match `scripts/services start run` (project-local, non-standard loopback ports).
DEFAULT_DATABASE_URL = "postgres://gaia@127.0.0.1:55432/gaia"
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", DEFAULT_DATABASE_URL), conn_max_age=env_int("DB_CONN_MAX_AGE", 0),
        # A kept connection is checked before a request reuses it (PostgreSQL may have restarted).
        conn_health_checks=True,
    )
}
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:56379/0")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Files ----------------------------------------------------------------------------------
# DATA_ROOT holds product files (Parquet series, FITS images, model weights); rows reference them.
DATA_ROOT = env_path("DATA_ROOT", VAR_DIR / "data")
# Where products are stored (README "Storage"): DATA_ROOT on this disk unless GAIA_STORAGE_URL
# names an S3-compatible bucket; staging, archive downloads and the download cache stay local.
GAIA_STORAGE_URL = env_str("GAIA_STORAGE_URL", "")
DATA_ROOT, _PRODUCTS_STORAGE = products_storage(GAIA_STORAGE_URL, DATA_ROOT)
GAIA_STORAGE_CACHE = env_path("GAIA_STORAGE_CACHE", VAR_DIR / "storage-cache")
_default_demo = (BASE_DIR.parent / "shared" / "data").resolve()
GAIA_DEMO_DATA = env_path("GAIA_DEMO_DATA", _default_demo)
GALEX_CAL_DIR = env_path("GAIA_GALEX_CAL_DIR", GAIA_DEMO_DATA / "galex" / "cal_data")
# Most movie frames one reduction may write (all legs): exposure / depth above it is refused.
GAIA_GALEX_MAX_FRAMES = env_int("GAIA_GALEX_MAX_FRAMES", 2000)
# Largest file the GALEX upload page takes (each of raw6 and aspect files): raw6 files of long
# eclipses run to a few hundred MB. Uploads stream to disk (Django's temporary files), never memory.
GAIA_GALEX_UPLOAD_MAX_BYTES = env_int("GAIA_GALEX_UPLOAD_MAX_BYTES", 2 * 1024**3)
# Compiled numba kernels (`cache=True`): one folder for `manage.py warm_kernels` (make install, the
# Docker build) and every worker, whoever owns the installed sources. numba reads the variable when
# a kernel module is imported, which in Django processes is after these settings.
NUMBA_CACHE_DIR = env_path("NUMBA_CACHE_DIR", VAR_DIR / "numba-cache")
os.environ["NUMBA_CACHE_DIR"] = str(NUMBA_CACHE_DIR)

# --- Archive endpoints (overridable so tests and mirrors can point elsewhere) ----------------
GAIA_MAST_URL = env_str("GAIA_MAST_URL", "https://mast.stsci.edu")
GAIA_MAST_ARCHIVE_URL = env_str("GAIA_MAST_ARCHIVE_URL", "https://archive.stsci.edu")
GAIA_EXOARCHIVE_URL = env_str("GAIA_EXOARCHIVE_URL", "https://exoplanetarchive.ipac.caltech.edu")
# GALEX raw6/scst URLs come from MAST's GALEX photon query service (gPhoton 2 `io/mast.py`).
GAIA_GALEX_MAST_URL = env_str("GAIA_GALEX_MAST_URL", "https://mast.stsci.edu")
GAIA_DOWNLOAD_CONCURRENCY = env_int("GAIA_DOWNLOAD_CONCURRENCY", 16)
# The local mirror that downloads with source "mirror" read (never taken from a request); empty: none.
GAIA_ARCHIVE_MIRROR_ROOT = env_str("GAIA_ARCHIVE_MIRROR_ROOT", "")

# --- Jobs -----------------------------------------------------------------------------------
# Progress writes are throttled to at most this many per second per job.
GAIA_PROGRESS_MAX_PER_SECOND = env_int("GAIA_PROGRESS_MAX_PER_SECOND", 2)
# Tests and `make run` set this so enqueued jobs run in the same process (no worker needed).
GAIA_JOBS_EAGER = env_bool("GAIA_JOBS_EAGER", False)
# The reconciler (in every worker, and `manage.py reconcile_jobs`) runs this often: it re-sends
# queued jobs that have no live message and re-queues running jobs whose lease ran out.
GAIA_RECONCILE_SECONDS = env_int("GAIA_RECONCILE_SECONDS", 15)
# A running job whose heartbeat is older than this lost its worker.
GAIA_JOB_LEASE_SECONDS = env_int("GAIA_JOB_LEASE_SECONDS", 120)
# A job whose worker died is re-queued up to its actor's max_retries times, or this many if more
# (0: the actor's budget alone). Fault drills raise it so one job survives many kills.
GAIA_JOB_LOST_WORKER_RETRIES = env_int("GAIA_JOB_LOST_WORKER_RETRIES", 0)
# What a job's artifact is about: jobs (infrastructure) links to it through this setting, as
# apps link to AUTH_USER_MODEL, instead of importing the catalogue (docs/architecture.md).
GAIA_JOB_SUBJECT_MODEL = "catalog.Target"
# Recorded in every job's provenance (apps/jobs/runner.py), so jobs needs no import of this package.
GAIA_VERSION = __version__

# --- Vetting (see README "Vetting") -------------------------------------------------------------
# Decisive labels (not "?") a TCE needs from different people before it is agreed or in conflict.
GAIA_LABELS_PER_TCE = env_int("GAIA_LABELS_PER_TCE", 2)
# How long a queue keeps a TCE for the person it was handed to.
GAIA_CLAIM_MINUTES = env_int("GAIA_CLAIM_MINUTES", 10)

# --- Dashboard --------------------------------------------------------------------------------
# Dashboard numbers (apps.catalog.services.catalog_summary): recomputed when older than this, or
# when targets, TCEs or light curves were added and the copy is older than the minimum.
GAIA_SUMMARY_MAX_AGE_SECONDS = env_int("GAIA_SUMMARY_MAX_AGE_SECONDS", 300)
GAIA_SUMMARY_MIN_AGE_SECONDS = env_int("GAIA_SUMMARY_MIN_AGE_SECONDS", 5)

# --- Access (see README "Access and roles") ---------------------------------------------------
# 1: anonymous visitors read public pages and the read API; 0: every page and operation needs a login.
GAIA_PUBLIC_READ = env_bool("GAIA_PUBLIC_READ", True)
# Queued + running jobs one user may have at once (admins are not limited).
GAIA_MAX_ACTIVE_JOBS = env_int("GAIA_MAX_ACTIVE_JOBS", 20)
# Jobs one user may queue per minute before the API answers 429 with Retry-After.
GAIA_ENQUEUE_PER_MINUTE = env_int("GAIA_ENQUEUE_PER_MINUTE", 30)

# --- Auth, i18n, static ----------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses locked-out user + address pairs
    "django.contrib.auth.backends.ModelBackend",
]
# Login throttling (django-axes): failures count per user name *and* client address together, so
# one address cannot lock everyone out; lift with `manage.py axes_reset_username NAME`.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = env_int("GAIA_LOGIN_FAILURE_LIMIT", 5)
_login_cooloff_minutes = env_int("GAIA_LOGIN_COOLOFF_MINUTES", 15)
# 0 minutes: a lockout lasts until an administrator lifts it.
AXES_COOLOFF_TIME = timedelta(minutes=_login_cooloff_minutes) if _login_cooloff_minutes > 0 else None
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "gaia_web.proxy.client_ip"
AXES_LOCKOUT_TEMPLATE = "registration/lockout.html"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    # Only these BokehJS bundles of the installed bokeh package, under static/bokeh/ (see the module).
    "gaia_web.staticfiles.BokehJSFinder",
]
#: The BokehJS bundles templates/base.html loads (canvas backend only: no bokeh-gl, no mathjax).
BOKEHJS_FILES = ["bokeh.min.js", "bokeh-widgets.min.js", "bokeh-tables.min.js"]
STATIC_ROOT = env_path("STATIC_ROOT", VAR_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "products": _PRODUCTS_STORAGE,
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
    SECURE_CONTENT_TYPE_NOSNIFF = True

# X-Forwarded-Proto is trusted only behind our own proxy; anyone can send the header otherwise.
SECURE_PROXY_SSL_HEADER = proxy_ssl_header(GAIA_BEHIND_PROXY)

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
