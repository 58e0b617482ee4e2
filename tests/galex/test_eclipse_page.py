"""The eclipse page is light (previews, not products) and its movie frames and image stretches come
from the API in uint8."""

from __future__ import annotations

import base64

import numpy as np
import pytest

from apps.galex.science.preview import read_image_preview
from apps.galex.services import eclipse_reduce, eclipse_simulate
from apps.jobs.models import Artifact

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def reduced(django_db_setup, django_db_blocker, tmp_path_factory, demo_data):
    from django.conf import settings

    with django_db_blocker.unblock():
        old_root, old_cal = settings.DATA_ROOT, settings.GALEX_CAL_DIR
        settings.DATA_ROOT = tmp_path_factory.mktemp("page_root")
        settings.GALEX_CAL_DIR = demo_data / "galex" / "cal_data"
        eclipse = eclipse_simulate(n_events=50_000, seed=6, duration=200.0)
        eclipse_reduce(eclipse=eclipse, depth=20.0)
        yield eclipse, settings.DATA_ROOT
        settings.DATA_ROOT, settings.GALEX_CAL_DIR = old_root, old_cal
        Artifact.objects.filter(key__startswith=f"{eclipse.artifact_prefix}/").delete()
        eclipse.delete()


def test_the_page_embeds_previews_not_products(reduced, client, settings):
    eclipse, root = reduced
    settings.DATA_ROOT = root
    response = client.get(f"/galex/{eclipse.pk}/")
    assert response.status_code == 200
    assert len(response.content) < 1_500_000
    page = response.content.decode()
    assert "galex-movie-slider" in page and "/movie/frames" in page and "image-preview" in page


def test_movie_frames_come_in_pages_of_uint8(reduced, client, settings):
    eclipse, root = reduced
    settings.DATA_ROOT = root
    answer = client.get(f"/api/galex/eclipses/{eclipse.pk}/movie/frames?start=2&count=3").json()
    ny, nx = answer["shape"]
    assert answer["start"] == 2 and answer["n_frames"] >= 10 and len(answer["frames"]) == 3
    frames = [np.frombuffer(base64.b64decode(f), np.uint8).reshape(ny, nx) for f in answer["frames"]]
    assert max(ny, nx) <= 160 and all(f.max() > 0 for f in frames)
    last = client.get(f"/api/galex/eclipses/{eclipse.pk}/movie/frames?start={answer['n_frames'] - 1}&count=16").json()
    assert len(last["frames"]) == 1
    assert client.get(f"/api/galex/eclipses/{eclipse.pk}/movie/frames?count=65").status_code == 422
    assert client.get(f"/api/galex/eclipses/{eclipse.pk}/movie/frames?start=-1").status_code == 422
    assert client.get("/api/galex/eclipses/999999/movie/frames").status_code == 404


def test_the_image_comes_in_either_stretch(reduced, client, settings):
    eclipse, root = reduced
    settings.DATA_ROOT = root
    log = client.get(f"/api/galex/eclipses/{eclipse.pk}/image").json()
    asinh = client.get(f"/api/galex/eclipses/{eclipse.pk}/image?stretch=asinh").json()
    assert log["stretch"] == "log" and asinh["stretch"] == "asinh" and log["shape"] == asinh["shape"]
    assert log["data"] != asinh["data"]
    ny, nx = log["shape"]
    plane = np.frombuffer(base64.b64decode(log["data"]), np.uint8).reshape(ny, nx)
    assert plane.max() == 255 and max(ny, nx) <= 600
    assert client.get(f"/api/galex/eclipses/{eclipse.pk}/image?stretch=sqrt").status_code == 422


def test_a_preview_round_trips(tmp_path):
    from apps.galex.science.preview import write_image_preview

    count = np.random.default_rng(1).poisson(3.0, (1300, 900)).astype(np.float32)
    path = write_image_preview(tmp_path / "p.npz", count, crval=(10.0, 20.0), crpix=(450.5, 650.5), cdelt=(-1 / 2400, 1 / 2400))
    preview = read_image_preview(path)
    assert preview["factor"] == 3 and preview["log"].shape == (433, 300) and preview["log"].dtype == np.uint8
    assert preview["shape"] == (1300, 900) and preview["crval"] == (10.0, 20.0)
