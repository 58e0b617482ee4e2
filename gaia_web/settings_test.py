"""Test settings: the production settings with plain-HTTP test clients allowed and fast hashing."""

from gaia_web.settings import *  # noqa: F403

SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "products": STORAGES["products"],  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
GAIA_PROGRESS_MAX_PER_SECOND = 20
# Axes stays on; only Client.login() (no request, so nothing to key a lockout on) skips its check.
AUTHENTICATION_BACKENDS = [  # noqa: F405
    "tests.axes_backend.AxesStandaloneBackendForTests" if backend == "axes.backends.AxesStandaloneBackend"
    else backend
    for backend in AUTHENTICATION_BACKENDS  # noqa: F405
]
GAIA_RECONCILE_SECONDS = 0  # workers in tests reconcile only where a test asks for it
