"""django-axes' standalone backend, for tests that log in with ``client.login()``.

``Client.login()`` calls ``authenticate()`` without a request, and axes (which keys lockouts on the
request's address) refuses that with ``AxesBackendRequestParameterRequired``. Only in that case this
backend steps aside; every real request through the login views is checked exactly as in production
(tests/core/test_login_throttling.py). ``force_login()`` never authenticates and needs nothing.
"""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend


class AxesStandaloneBackendForTests(AxesStandaloneBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):  # noqa: ANN001, ANN201
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
