"""The staff upload page: a simulated raw6 and its aspect registered through the browser's form;
refused roles, corrupt, cut and oversize files leave no Eclipse, no artifact and no file."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.test import Client
from django.urls import reverse

from apps.galex.models import Eclipse, EclipseStatus
from apps.galex.science.aspect import load_aspect_tables, write_eclipse_aspect
from apps.galex.science.raw6 import read_raw6_header
from apps.galex.science.simulate import simulate_eclipse
from apps.galex.selectors import eclipse_artifacts
from apps.galex.upload import _stage
from apps.jobs.models import Artifact
from tests.conftest import make_user

pytestmark = pytest.mark.django_db
URL = "/galex/upload/"


@pytest.fixture(scope="module")
def sim(tmp_path_factory, demo_data):
    """A tiny simulated NUV eclipse: raw6 and gPhoton 2 aspect tables, plus a one-file aspect."""
    out = tmp_path_factory.mktemp("upload-sim")
    result = simulate_eclipse(out, demo_data / "galex" / "cal_data", n_events=20_000, seed=3)
    asp, bore, metadata, _w, _src = load_aspect_tables(result.aspect_dir, 23456)
    one_file = write_eclipse_aspect(out / "e23456-aspect.parquet", asp, bore, metadata)
    return result, one_file


def upload(path: Path, name: str | None = None, content: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name or path.name, path.read_bytes() if content is None else content)


def aspect_tables(sim_result) -> list[SimpleUploadedFile]:
    return [upload(sim_result.aspect_dir / name) for name in ("aspect.parquet", "boresight.parquet", "metadata.parquet")]


def files_under_data_root() -> list[Path]:
    root = Path(settings.DATA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def assert_nothing_left() -> None:
    assert not Eclipse.objects.exists() and not Artifact.objects.exists()
    assert files_under_data_root() == []


@pytest.fixture
def otto(django_user_model) -> Client:
    client = Client()
    client.force_login(make_user(django_user_model, "otto", "operator"))
    return client


def test_an_operator_registers_an_eclipse_from_uploaded_tables(otto, sim):
    result, _ = sim
    response = otto.post(URL, {"raw6": upload(result.raw6_path), "aspect": aspect_tables(result),
                               "eclipse": "23456", "band": "NUV", "label": "uploaded"})  # fmt: skip
    eclipse = Eclipse.objects.get(number=23456, band="NUV", source="raw6")
    assert response.status_code == 302 and response["Location"] == reverse("galex-eclipse-detail", args=[eclipse.pk])
    assert eclipse.status == EclipseStatus.REGISTERED and eclipse.legs == 1 and eclipse.label == "uploaded"
    kinds = {a.kind: a for a in eclipse_artifacts(eclipse=eclipse)}
    assert kinds["raw6"].sha256 == eclipse.inputs[result.raw6_path.name]
    assert (Path(settings.DATA_ROOT) / kinds["raw6"].path).read_bytes() == result.raw6_path.read_bytes()
    # only the two artifacts remain: the staging folder is gone
    assert sorted(p.name for p in files_under_data_root()) == sorted(
        [result.raw6_path.name, Path(kinds["aspect"].path).name]
    )
    page = otto.get(response["Location"])
    n_events = read_raw6_header(result.raw6_path).n_events
    assert eclipse.summary["n_events"] == n_events
    assert f"Registered uploaded: {n_events} events, 1 leg(s)." in page.content.decode()


def test_a_one_file_aspect_is_taken_too(otto, sim):
    result, one_file = sim
    response = otto.post(URL, {"raw6": upload(result.raw6_path), "aspect": [upload(one_file)]})
    assert response.status_code == 302 and Eclipse.objects.get(number=23456).legs == 1


def test_the_form_is_csrf_protected_multipart_and_linked_from_the_list_for_permitted_users(otto, sim, django_user_model):
    page = otto.get(URL).content.decode()
    assert 'enctype="multipart/form-data"' in page and "csrfmiddlewaretoken" in page and "multiple" in page
    assert URL in otto.get("/galex/").content.decode()
    viewer = Client()
    viewer.force_login(make_user(django_user_model, "vic", "viewer"))
    assert URL not in viewer.get("/galex/").content.decode()
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(make_user(django_user_model, "otto2", "operator"))
    result, one_file = sim
    response = strict.post(URL, {"raw6": upload(result.raw6_path), "aspect": [upload(one_file)]})
    assert response.status_code == 403
    assert_nothing_left()


@pytest.mark.parametrize("role", ["viewer", "vetter", "adjudicator"])
def test_roles_below_operator_are_refused(role, sim, django_user_model):
    client = Client()
    client.force_login(make_user(django_user_model, f"u-{role}", role))
    result, one_file = sim
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"raw6": upload(result.raw6_path), "aspect": [upload(one_file)]}).status_code == 403
    assert_nothing_left()


def test_anonymous_visitors_are_sent_to_log_in(sim):
    response = Client().get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def refused(client: Client, data: dict) -> str:
    response = client.post(URL, data)
    assert response.status_code == 400
    assert_nothing_left()
    return response.content.decode()


def test_a_non_fits_raw6_is_refused_and_leaves_nothing(otto, sim):
    result, one_file = sim
    page = refused(otto, {"raw6": upload(result.raw6_path, content=b"not a fits file at all"),
                          "aspect": [upload(one_file)]})  # fmt: skip
    assert "e23456-nd-raw6.fits.gz: " in page and "neither gzip-compressed nor FITS" in page
    assert "galex-upload-" not in page  # the message names the file, not the server's staging folder


def test_a_raw6_cut_short_is_refused_although_its_header_reads(otto, sim, tmp_path):
    result, one_file = sim
    whole = result.raw6_path.read_bytes()
    cut = tmp_path / result.raw6_path.name
    cut.write_bytes(whole[: len(whole) * 2 // 3])
    assert read_raw6_header(cut).eclipse == 23456  # what galex_register alone would have trusted
    page = refused(otto, {"raw6": upload(cut), "aspect": [upload(one_file)]})
    assert "e23456-nd-raw6.fits.gz: " in page


def test_a_corrupt_aspect_or_a_wrong_band_or_eclipse_is_refused(otto, sim):
    result, one_file = sim
    page = refused(otto, {"raw6": upload(result.raw6_path),
                          "aspect": [upload(one_file, content=b"PAR1 garbage")]})  # fmt: skip
    assert "aspect" in page and "e23456-aspect.parquet" in page
    page = refused(otto, {"raw6": upload(result.raw6_path), "aspect": [upload(one_file)], "band": "FUV"})
    assert "holds the NUV band, not FUV" in page
    page = refused(otto, {"raw6": upload(result.raw6_path), "aspect": [upload(one_file)], "eclipse": "23457"})
    assert "holds eclipse 23456, not 23457" in page
    page = refused(otto, {"raw6": upload(result.raw6_path), "aspect": aspect_tables(result)[:2] + [upload(one_file)]})
    assert "several aspect files must be gPhoton 2&#x27;s tables" in page


def test_an_oversize_file_is_refused(otto, sim, settings):
    result, one_file = sim
    settings.GAIA_GALEX_UPLOAD_MAX_BYTES = one_file.stat().st_size + 1
    assert result.raw6_path.stat().st_size > settings.GAIA_GALEX_UPLOAD_MAX_BYTES
    page = refused(otto, {"raw6": upload(result.raw6_path), "aspect": [upload(one_file)]})
    assert "GAIA_GALEX_UPLOAD_MAX_BYTES" in page and f"{result.raw6_path.stat().st_size:,} bytes" in page


class ChunksOnly(UploadedFile):
    """An upload on disk (as Django's temporary ones) that may only be read in chunks."""

    def read(self, *args):  # noqa: ANN002, ANN201
        if not args or args[0] in (None, -1):
            raise AssertionError("the upload was read whole")
        return super().read(*args)


def test_uploads_are_staged_chunk_by_chunk(tmp_path):
    data = bytes(range(256)) * 4096
    staged = _stage(ChunksOnly(io.BytesIO(data), "../../e1-nd-raw6.fits.gz", size=len(data)), tmp_path)
    assert staged == tmp_path / "e1-nd-raw6.fits.gz" and staged.read_bytes() == data
