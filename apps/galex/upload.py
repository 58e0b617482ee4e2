"""The staff upload page: register an eclipse from a raw6 file and its aspect sent by the browser."""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.contrib import messages
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from apps.core.errors import GaiaError, InvalidInput
from apps.core.files import data_root
from apps.galex.forms import EclipseUploadForm, upload_max_bytes
from apps.galex.intake import eclipse_register_upload
from apps.galex.models import Eclipse


def _stage(upload: UploadedFile, folder: Path) -> Path:
    """Write ``upload`` chunk by chunk under its own (base) name: never the whole file in memory."""
    path = folder / Path(upload.name).name
    with open(path, "wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    return path


def _register(data: dict) -> Eclipse:
    """Stage the uploads inside DATA_ROOT (the artifact store's filesystem) and register them.

    The staging folder goes whatever happens, so a refused upload leaves no file; the service
    refuses before it writes a row. Messages name the files, not the staging folder.
    """
    with tempfile.TemporaryDirectory(dir=data_root(), prefix="galex-upload-") as folder:
        staging = Path(folder)
        raw6 = _stage(data["raw6"], staging)
        (staging / "aspect").mkdir()
        aspects = [_stage(upload, staging / "aspect") for upload in data["aspect"]]
        try:
            return eclipse_register_upload(
                raw6_path=raw6,
                aspect_path=aspects[0] if len(aspects) == 1 else staging / "aspect",
                eclipse_number=data.get("eclipse"),
                band=data.get("band") or None,
                label=data.get("label", ""),
            )
        except InvalidInput as exc:
            raise InvalidInput(exc.message.replace(f"{staging}/", "")) from exc


@require_http_methods(["GET", "POST"])
def eclipse_upload(request: HttpRequest) -> HttpResponse:
    form = EclipseUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            eclipse = _register(form.cleaned_data)
        except GaiaError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                f"Registered {eclipse}: {eclipse.summary.get('n_events', 0)} events, {eclipse.legs} leg(s).",
            )
            return redirect("galex-eclipse-detail", eclipse_id=eclipse.pk)
    context = {"form": form, "max_bytes": upload_max_bytes()}
    return render(request, "galex/eclipse_upload.html", context, status=400 if form.errors else 200)
