"""The staff upload form: a raw6 file and its aspect, checked for size and names before any is read."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from apps.galex.models import Eclipse

#: The gPhoton 2 aspect tables, when the aspect comes as several files (one folder of them).
ASPECT_TABLE_NAMES = ("aspect.parquet", "boresight.parquet", "metadata.parquet")


class SeveralFilesInput(forms.ClearableFileInput):
    """A file input that lets the browser pick more than one file."""

    allow_multiple_selected = True


class SeveralFilesField(forms.FileField):
    """A file field whose cleaned value is the list of every file sent under its name."""

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003 - forms.FileField's own
        kwargs.setdefault("widget", SeveralFilesInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None) -> list[UploadedFile]:  # noqa: ANN001
        files = list(data) if isinstance(data, list | tuple) else [data]
        if not any(files) and self.required:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        clean_one = super().clean
        return [clean_one(one, initial) for one in files if one]


def upload_max_bytes() -> int:
    return int(settings.GAIA_GALEX_UPLOAD_MAX_BYTES)


def _check_size(upload: UploadedFile) -> None:
    """Refuse a file over the limit; Django has already streamed it to a temporary file, not memory."""
    limit = upload_max_bytes()
    if upload.size > limit:
        raise forms.ValidationError(
            f"{upload.name} is {upload.size:,} bytes; files up to {limit:,} bytes are taken "
            "(GAIA_GALEX_UPLOAD_MAX_BYTES)",
            code="too_large",
        )


class EclipseUploadForm(forms.Form):
    raw6 = forms.FileField(
        label="raw6 file", help_text="gzip FITS, e.g. e23456-nd-raw6.fits.gz", validators=[_check_size]
    )
    aspect = SeveralFilesField(
        label="aspect",
        help_text="the eclipse's MAST -scst.fits(.gz), a one-file eclipse aspect (as registration stores it), "
        "or gPhoton 2's tables aspect.parquet and boresight.parquet (metadata.parquet optional) selected together",
    )
    eclipse = forms.IntegerField(
        required=False, min_value=1, label="eclipse number", help_text="optional: checked against the raw6 header"
    )
    band = forms.ChoiceField(
        required=False,
        choices=[("", "from the raw6 header")] + list(Eclipse._meta.get_field("band").choices),
        help_text="optional: checked against the raw6 header",
    )
    label = forms.CharField(required=False, max_length=100, help_text="a name shown on the eclipse pages")

    def clean_aspect(self) -> list[UploadedFile]:
        files = self.cleaned_data["aspect"]
        for upload in files:
            _check_size(upload)
        names = [upload.name for upload in files]
        if len(files) > len(ASPECT_TABLE_NAMES):
            raise forms.ValidationError(f"at most {len(ASPECT_TABLE_NAMES)} aspect files: {', '.join(names)}")
        if len(files) > 1 and (len(set(names)) != len(names) or not set(names) <= set(ASPECT_TABLE_NAMES)):
            raise forms.ValidationError(
                f"several aspect files must be gPhoton 2's tables ({', '.join(ASPECT_TABLE_NAMES)}), "
                f"each once; got {', '.join(names)}"
            )
        return files
