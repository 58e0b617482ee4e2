"""GALEX in the site next to Kepler/TESS: eclipses linked to the targets in their field, forced
photometry of those targets, /api/targets/{id}/galex, the target page's cross-mission plot; and the
reduction options of the site (apertures, photometry only, coregistered bands)."""

from __future__ import annotations

import pandas as pd
import pytest

from apps.catalog.models import Mission
from apps.core.files import resolve_data_path
from apps.galex.models import EclipseTarget
from apps.galex.selectors import eclipse_artifacts, source_table, target_galex_curves
from apps.galex.services import eclipse_reduce, eclipse_simulate, reduce_params_validate
from apps.jobs.models import Artifact
from tests.factories import TargetFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def field(settings, demo_data):
    """A small NUV eclipse, reduced, with a Kepler target on a planted star and one far away."""
    settings.GALEX_CAL_DIR = demo_data / "galex" / "cal_data"
    near = TargetFactory(mission=Mission.KEPLER, identifier="1000001", name="near star", ra=0.0, dec=0.0)
    far = TargetFactory(mission=Mission.KEPLER, identifier="1000002", name="far star", ra=10.0, dec=-40.0)
    eclipse = eclipse_simulate(n_events=40_000, seed=8, duration=200.0)
    truth = pd.read_csv(resolve_data_path(next(a for a in eclipse_artifacts(eclipse=eclipse) if a.kind == "truth").path))
    star = truth[truth.row_type == "source"].sort_values("mean_cps", ascending=False).iloc[0]
    near.ra, near.dec = float(star.ra), float(star.dec)
    near.save()
    eclipse_reduce(eclipse=eclipse, depth=20.0, aperture_sizes=[6, 12.8])
    return eclipse, near, far


def test_targets_in_the_field_are_linked_and_get_forced_photometry(field):
    eclipse, near, far = field
    links = list(EclipseTarget.objects.filter(eclipse=eclipse))
    assert [link.target_id for link in links] == [near.pk] and links[0].separation_deg < 0.6
    tables = [a for a in eclipse_artifacts(eclipse=eclipse) if a.kind == "lightcurves"]
    assert sorted(a.meta["aperture"] for a in tables) == ["12_8", "6"]
    table = source_table(artifact=tables[0])
    forced = table[table.forced.astype(bool)]
    assert list(forced.source_id) == [f"target:{near.pk}"]
    curves = target_galex_curves(target=near)
    assert len(curves) == 1 and "detected source" in curves[0].source and curves[0].separation_arcsec < 10
    assert (curves[0].bjd > 2452000).all() and (curves[0].cps > 0).any()


def test_the_api_and_the_target_page_show_the_covering_eclipses(field, client):
    eclipse, near, far = field
    listed = client.get(f"/api/targets/{near.pk}/galex").json()
    assert [row["eclipse_id"] for row in listed] == [eclipse.pk] and listed[0]["band"] == "NUV"
    assert client.get(f"/api/targets/{far.pk}/galex").json() == []
    assert client.get("/api/targets/999999/galex").status_code == 404
    page = client.get(f"/targets/{near.pk}/").content.decode()
    assert "GALEX eclipses covering this target" in page and "galex-cross-mission" in page
    assert "mission-toggles" in page and "BJD" in page
    assert "GALEX eclipses covering" not in client.get(f"/targets/{far.pk}/").content.decode()


def test_photometry_only_adds_tables_and_keeps_the_images(field):
    eclipse, near, _ = field
    images = set(Artifact.objects.filter(key=f"{eclipse.artifact_prefix}/image").values_list("pk", flat=True))
    report = eclipse_reduce(eclipse=eclipse, depth=20.0, aperture_sizes=[25], photometry_only=True,
                            pixel_convention="gphoton2")  # fmt: skip
    assert set(report["products"]) == {"image_photometry", "movie_photometry"}
    assert set(Artifact.objects.filter(key=f"{eclipse.artifact_prefix}/image").values_list("pk", flat=True)) == images
    eclipse.refresh_from_db()
    assert eclipse.summary["photometry_only"] and eclipse.summary["aperture_sizes"] == [25]
    assert eclipse.summary["legs"][0]["frames"] > 0  # the reduction's numbers stay


def test_photometry_only_needs_an_image(settings, demo_data):
    settings.GALEX_CAL_DIR = demo_data / "galex" / "cal_data"
    eclipse = eclipse_simulate(n_events=20_000, seed=9, duration=120.0)
    from apps.core.errors import InvalidInput

    with pytest.raises(InvalidInput, match="no image yet"):
        reduce_params_validate({"eclipse_id": eclipse.pk, "photometry_only": True})
    with pytest.raises(InvalidInput, match="aperture_sizes"):
        reduce_params_validate({"eclipse_id": eclipse.pk, "aperture_sizes": [12.8, 12.8]})
    with pytest.raises(InvalidInput, match="threads"):
        reduce_params_validate({"eclipse_id": eclipse.pk, "threads": 64})


def test_the_bands_of_an_eclipse_share_frames_when_coregistered(settings, demo_data):
    settings.GALEX_CAL_DIR = demo_data / "galex" / "cal_data"
    nuv = eclipse_simulate(n_events=25_000, seed=10, duration=160.0, band="NUV")
    fuv = eclipse_simulate(n_events=25_000, seed=10, duration=160.0, band="FUV")
    eclipse_reduce(eclipse=nuv, depth=20.0)
    eclipse_reduce(eclipse=fuv, depth=20.0, coregister=True)
    fuv.refresh_from_db()
    assert fuv.summary["coregistered"]
    tables = {e.band: source_table(artifact=next(a for a in eclipse_artifacts(eclipse=e) if a.kind == "lightcurves"))
              for e in (nuv, fuv)}  # fmt: skip
    frames = min(sum(c.startswith("t0_") for c in t.columns) for t in tables.values())
    assert frames >= 3
    for i in range(frames):
        assert tables["NUV"][f"t0_{i}"].iloc[0] == tables["FUV"][f"t0_{i}"].iloc[0]
