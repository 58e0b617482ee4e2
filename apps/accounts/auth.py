"""API authentication and the permission gate that every ninja operation runs.

Each operation gets two callbacks: a bearer token (``Authorization: Bearer gaia_…``) and the
browser session (with CSRF on unsafe methods). Both check the operation's entry in
``API_PERMISSIONS``; anonymous calls are let through only where that entry is ``READ`` and
public reading is on. A missing login answers 401, a missing role 403.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from apps.accounts.permissions import API_PERMISSIONS, OPEN, READ, user_can
from apps.accounts.services import api_token_authenticate
from apps.core.errors import AuthenticationRequired, PermissionDeniedError


class AnonymousAccess:
    """``request.auth`` of an anonymous call that the permission table allows."""

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        return "AnonymousAccess()"


ANONYMOUS = AnonymousAccess()


def _check_level(request: HttpRequest, level: str, operation_id: str) -> Any:
    user = request.user
    if user_can(user, level):
        return user if user.is_authenticated else ANONYMOUS
    if not user.is_authenticated:
        raise AuthenticationRequired("log in or send an API token (Authorization: Bearer …)")
    raise PermissionDeniedError(f"your role may not call {operation_id} (needs {level})")


class TokenAuth(HttpBearer):
    """``Authorization: Bearer <token>`` from ``manage.py api_token create`` or the tokens page."""

    def __init__(self, level: str, operation_id: str) -> None:
        super().__init__()
        self.level, self.operation_id = level, operation_id

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = api_token_authenticate(token.strip())
        if user is None:
            raise AuthenticationRequired("the API token is invalid, expired or revoked")
        request.user = user
        request._dont_enforce_csrf_checks = True  # a bearer token is no ambient credential
        return _check_level(request, self.level, self.operation_id)


class SessionAuth(APIKeyCookie):
    """The browser session of a logged-in user (CSRF-checked), or an allowed anonymous read."""

    param_name = settings.SESSION_COOKIE_NAME

    def __init__(self, level: str, operation_id: str) -> None:
        super().__init__(csrf=True)
        self.level, self.operation_id = level, operation_id

    def __call__(self, request: HttpRequest) -> Any:
        unsafe = request.method not in ("GET", "HEAD", "OPTIONS")
        if request.user.is_authenticated and unsafe and check_csrf(request) is not None:
            raise PermissionDeniedError("CSRF check failed: send the csrftoken cookie's value as X-CSRFToken")
        return _check_level(request, self.level, self.operation_id)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:  # pragma: no cover - unused
        return None


class GaiaNinjaAPI(NinjaAPI):
    """NinjaAPI whose operation ids read ``<app>.<function>``: the keys of API_PERMISSIONS."""

    def get_openapi_operation_id(self, operation) -> str:  # noqa: ANN001
        module = operation.view_func.__module__.split(".")
        app = module[1] if len(module) > 2 and module[0] == "apps" else module[-1]
        return f"{app}.{operation.view_func.__name__}"


def api_operations(api: NinjaAPI):  # noqa: ANN201 - yields (operation id, method list, operation)
    """Every bound operation of ``api`` (ninja binds routers lazily; this forces the binding)."""
    for bound in api._get_bound_routers():  # noqa: SLF001 - ninja has no public walk of operations
        for path_view in bound.path_operations.values():
            for operation in path_view.operations:
                op_id = operation.operation_id or api.get_openapi_operation_id(operation)
                yield op_id, operation.methods, operation


def apply_permission_table(api: NinjaAPI) -> None:
    """Put the gate on every operation; an operation missing from the table is refused to all."""
    for op_id, _methods, operation in api_operations(api):
        level = API_PERMISSIONS.get(op_id)
        if level is None:
            operation.auth_callbacks = [_refuse_unlisted(op_id)]
            continue
        if level == OPEN:
            operation.auth_callbacks = []
            continue
        operation.auth_callbacks = [TokenAuth(level, op_id), SessionAuth(level, op_id)]


def _refuse_unlisted(op_id: str):  # noqa: ANN202
    def refuse(request: HttpRequest) -> None:
        raise PermissionDeniedError(f"{op_id} has no entry in the permission table")

    return refuse


__all__ = ["GaiaNinjaAPI", "apply_permission_table", "api_operations", "READ"]
