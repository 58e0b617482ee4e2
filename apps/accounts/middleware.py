"""The page half of the permission table: every non-API page is checked against PAGE_PERMISSIONS."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.accounts.permissions import PAGE_PERMISSIONS, user_can

#: Namespaces guarded elsewhere: the Django admin (staff only, i.e. the admin role) and the API's
#: operations (apps.accounts.auth). The API's docs pages are in PAGE_PERMISSIONS like any page.
API_NAMESPACE = "api-1"
API_DOC_NAMES = ("openapi-json", "openapi-view")


def page_key(namespace: str, url_name: str | None) -> str | None:
    """The PAGE_PERMISSIONS key of a resolved URL, or None where another gate applies."""
    if namespace == "admin" or namespace.startswith("admin:"):
        return None
    if namespace == API_NAMESPACE and url_name not in API_DOC_NAMES:
        return None
    if not url_name:
        return ""
    return f"{namespace}:{url_name}" if namespace else url_name


class PagePermissionMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):  # noqa: ANN001, ANN201
        match = request.resolver_match
        if match is None:
            return None
        key = page_key(match.namespace, match.url_name)
        if key is None:
            return None
        level = PAGE_PERMISSIONS.get(key)
        if level is None:
            return _forbidden(request, "This page has no entry in the permission table.")
        if user_can(request.user, level):
            return None
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return _forbidden(request, "Your role does not allow this. Ask an admin for another role.")


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "403.html", {"message": message}, status=403)
