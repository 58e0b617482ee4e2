"""Small helpers shared by page views."""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.core.errors import GaiaError, NotFound


def not_found(request: HttpRequest, exc: GaiaError) -> HttpResponse:
    return render(request, "404.html", {"message": exc.message}, status=404)


def page_object(get: Callable[..., Model], key: str) -> Callable[[Callable], Callable]:
    """Decorate the page of one object: ``get(**{key: value})`` fetches it from the URL's ``key``
    and the view receives the object in place of that value.

    Only a NotFound from this fetch answers the 404 page (with its message); one raised later, by
    what the page shows, stays the view's own error.
    """

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def page(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
            try:
                obj = get(**{key: kwargs.pop(key)})
            except NotFound as exc:
                return not_found(request, exc)
            return view(request, obj, *args, **kwargs)

        return page

    return decorate
