"""Small helpers shared by page views."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.core.errors import GaiaError


def not_found(request: HttpRequest, exc: GaiaError) -> HttpResponse:
    return render(request, "404.html", {"message": exc.message}, status=404)
