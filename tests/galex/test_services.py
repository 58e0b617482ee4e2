"""GALEX in the site: simulate → register → reduce into versioned products; real gPhoton products imported."""

from __future__ import annotations

import pytest

from apps.core.errors import InvalidInput
from apps.galex.models import Eclipse, EclipseStatus
from apps.galex.selectors import eclipse_artifacts, source_curves
from apps.galex.services import eclipse_reduce, eclipse_simulate, gphoton_import
from apps.jobs.models import Artifact

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_eclipse(settings, demo_data):
    settings.GALEX_CAL_DIR = demo_data / "galex" / "cal_data"
    return eclipse_simulate(n_events=60_000, seed=3)


def test_it_reduces_a_synthetic_eclipse_into_versioned_products(small_eclipse, client):
    report = eclipse_reduce(eclipse=small_eclipse, depth=60.0)
    eclipse = Eclipse.objects.get(pk=small_eclipse.pk)
    assert eclipse.status == EclipseStatus.REDUCED and eclipse.legs == 1
    kinds = {a.kind for a in eclipse_artifacts(eclipse=eclipse)}
    assert {
        "photonlist",
        "image",
        "movie",
        "source_table",
        "lightcurves",
        "exposure_table",
        "truth",
    } <= kinds
    assert any("identity" in w.lower() or "walk" in w.lower() for w in report["warnings"]), report[
        "warnings"
    ]
    curves = source_curves(
        artifact=next(a for a in eclipse_artifacts(eclipse=eclipse) if a.kind == "lightcurves")
    )
    assert curves.curves and (curves.exptime > 0).all()
    page = client.get(f"/galex/{eclipse.pk}/").content.decode()
    assert "galex-image" in page and "galex-movie" in page and "download" in page
    eclipse_reduce(eclipse=eclipse, depth=60.0)
    image_versions = Artifact.objects.filter(key=f"{eclipse.artifact_prefix}/image").values_list(
        "version", flat=True
    )
    assert sorted(image_versions) == [1, 2]


def test_it_imports_the_real_gphoton_products_read_only(demo_data, client):
    eclipses = gphoton_import(folder=demo_data / "galex" / "gphoton_products")
    assert {e.band for e in eclipses} == {"NUV", "FUV"}
    assert all(e.status == EclipseStatus.IMPORTED for e in eclipses)
    again = gphoton_import(folder=demo_data / "galex" / "gphoton_products")
    assert Artifact.objects.filter(kind__startswith="gphoton").count() == 4
    assert [e.pk for e in again] == [e.pk for e in eclipses]
    nuv = next(e for e in eclipses if e.band == "NUV")
    assert client.get(f"/galex/{nuv.pk}/").status_code == 200
    from apps.galex.services import reduce_params_validate

    with pytest.raises(InvalidInput, match="read-only"):
        reduce_params_validate({"eclipse_id": nuv.pk})


def test_it_refuses_absurd_reduction_parameters(small_eclipse, client, user):
    client.force_login(user)
    for body in ({"depth": -5}, {"compression": "zip"}):
        response = client.post(
            f"/api/galex/eclipses/{small_eclipse.pk}/reduce", body, content_type="application/json"
        )
        assert response.status_code == 422, body
    assert client.get("/api/galex/eclipses/99999").status_code == 404
    listed = client.get("/api/galex/eclipses").json()
    assert listed["count"] == 1
