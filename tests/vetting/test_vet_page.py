"""The vetting page: who sees the label form, what the header says, and that notes stay text."""

from __future__ import annotations

import re

import numpy as np
import pytest

from apps.jobs.services import artifact_store
from apps.lightcurves.products import views_key
from apps.lightcurves.science.views import PRESETS
from apps.ml.models import Prediction
from apps.ml.services import modelversion_register_shipped
from apps.vetting.models import LABEL_ORDER, VettingLabel
from tests.factories import TargetFactory, TCEFactory

pytestmark = pytest.mark.django_db

XSS = "</script><img src=x onerror=alert(1)>"


def store_views(tce, tmp_path, *, preset: str = "gaia", diagnostics: dict | None = None):  # noqa: ANN001, ANN201
    """A views artifact as processing stores it: the preset's arrays and the diagnostics in meta."""
    spec = PRESETS[preset]
    local = -np.exp(-0.5 * (np.linspace(-4, 4, spec.local_view.num_bins) / 0.4) ** 2)
    arrays = {
        "global_view": np.zeros(spec.global_view.num_bins), "local_view": local, "odd_view": local,
        "even_view": 0.9 * local, "secondary_view": np.zeros(spec.secondary_view.num_bins),
        "centroid_local_view": np.zeros(spec.local_view.num_bins), "centroid_global_view": np.zeros(spec.global_view.num_bins),
    }
    path = tmp_path / f"views_{preset}_{tce.pk}.npz"
    np.savez_compressed(path, **arrays)
    diagnostics = {"n_transits": 7, "depth": 0.0123, "depth_err": 0.00027, "snr": 45.6, "odd_depth": 0.0124,
                   "even_depth": 0.0122, "odd_even_sigma": 0.4, "secondary_phase": 5.0, "secondary_depth": 1e-5,
                   "secondary_sigma": 0.3, "transit_number": list(range(7)), "transit_time": [100.0 + 10 * k for k in range(7)],
                   "transit_depth": [0.0123] * 7, "transit_depth_err": [0.0007] * 7, **(diagnostics or {})}
    return artifact_store(key=views_key(tce.pk, preset), kind="views", source=path, target=tce.target,
                          meta={"preset": preset, "diagnostics": diagnostics, "tce_id": tce.pk})


@pytest.fixture
def tce():
    return TCEFactory(depth_ppm=None, snr=None, disposition="PC")


def page(client, tce, **params):  # noqa: ANN001, ANN201
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return client.get(f"/vet/tces/{tce.pk}/" + (f"?{query}" if query else ""))


def test_it_renders_for_anonymous_visitors_while_public_reading_is_on(client, tce, settings):
    settings.GAIA_PUBLIC_READ = True
    response = page(client, tce)
    assert response.status_code == 200
    body = response.content.decode()
    assert tce.label in body and 'id="label-form"' not in body
    assert "Log in</a> to label this TCE" in body


def test_it_sends_anonymous_visitors_to_the_login_when_public_reading_is_off(client, tce, settings):
    settings.GAIA_PUBLIC_READ = False
    response = page(client, tce)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_it_hides_the_label_form_from_a_viewer(client, tce, viewer):
    client.force_login(viewer)
    body = page(client, tce).content.decode()
    assert 'id="label-form"' not in body and "Your role may not label" in body


def test_it_shows_a_vetter_the_codes_in_key_order_with_confidence_flags_and_a_note(client, tce, vetter):
    client.force_login(vetter)
    body = page(client, tce).content.decode()
    assert 'id="label-form"' in body
    radios = re.findall(r'<input type="radio" name="label" value="([^"]+)"[^>]*><kbd>(\d)</kbd>', body)
    assert radios == [(code, str(key)) for key, code in enumerate(LABEL_ORDER, start=1)]
    assert radios[0] == ("PC", "1") and len(radios) == 8
    assert re.findall(r'name="confidence" value="(\w+)"', body) == ["low", "medium", "high"]
    assert 'name="flags" value="odd_even"' in body and 'name="flags" value="data_gaps"' in body
    assert 'name="comment"' in body


def test_it_takes_depth_and_snr_from_our_diagnostics_when_the_catalogue_lacks_them(client, tce, tmp_path):
    store_views(tce, tmp_path)
    body = page(client, tce).content.decode()
    header = body[body.index('id="vet-header"'):body.index('class="vet-main"')]
    assert "12300 ppm" in header and "45.6" in header
    assert re.search(r"transits observed</dt><dd>7<", header)
    assert "our diagnostics (gaia views v1)" in header
    detail = client.get(f"/tces/{tce.pk}/").content.decode()
    assert "12300.0 ppm" in detail and "45.60" in detail and "our diagnostics (gaia views v1)" in detail


def test_it_prefers_the_catalogues_depth_and_snr(client, tmp_path):
    tce = TCEFactory(depth_ppm=840.0, snr=31.0)
    store_views(tce, tmp_path)
    header = page(client, tce).content.decode().split('class="vet-main"')[0]
    assert "840 ppm" in header and "31.0" in header and "12300" not in header


def test_it_plots_the_views_against_phase_not_bin_number(client, tce, tmp_path):
    store_views(tce, tmp_path)
    for url in (f"/vet/tces/{tce.pk}/", f"/tces/{tce.pk}/"):
        body = client.get(url).content.decode()
        assert "phase (d from mid-transit)" in body and "hours from mid-transit" in body, url
    body = page(client, tce).content.decode()
    for name in ("view-global", "view-local", "odd-even", "secondary", "view-global-source"):
        assert f'"name":"{name}"' in body.replace(" ", "")


def test_it_warns_when_the_default_model_was_trained_on_another_mission(client, tmp_path):
    modelversion_register_shipped()
    from apps.ml.selectors import default_version

    version = default_version("triage")
    kepler = TCEFactory()
    Prediction.objects.create(tce=kepler, model_version=version, raw_score=0.8, probability=0.83, views_version=1)
    body = page(client, kepler).content.decode()
    assert "0.830" in body and version.name in body
    assert 'id="model-warning"' in body and "TESS 30-min full-frame images" in body and "not on KEPLER data" in body


def test_it_warns_about_another_cadence_and_stays_quiet_on_a_match(client, tmp_path):
    from apps.catalog.models import Cadence, LightCurve, Mission
    from apps.ml.selectors import default_version

    modelversion_register_shipped()
    version = default_version("triage", "tess")
    assert version.name == "yu2019_triage_scalars"  # the TESS triage default (best validation AP)
    target = TargetFactory(mission=Mission.TESS, identifier="25155310")
    tess = TCEFactory(target=target, epoch_system="BTJD")
    LightCurve.objects.create(target=target, mission=Mission.TESS, quarter_or_sector=1, cadence=Cadence.TWO_MIN,
                              n_points=10, time_start=0, time_end=1, time_system="BTJD", parquet_path="x.parquet",
                              source_filename="tess-s1.fits", source_sha256="0" * 64)
    Prediction.objects.create(tce=tess, model_version=version, raw_score=0.2, probability=0.21, views_version=1)
    body = page(client, tess).content.decode()
    assert 'id="model-warning"' in body and "2min cadence" in body

    version.manifest = {**version.manifest, "training": {"domain": {"mission": "tess", "cadence": "2min", "description": "TESS 2-min"}}}
    version.save(update_fields=["manifest"])
    assert 'id="model-warning"' not in page(client, tess).content.decode()


def test_it_shows_the_full_history_with_every_note_escaped(client, tce, vetter, adjudicator):
    VettingLabel.objects.create(tce=tce, user=vetter, label="EB", confidence="low", comment="first look")
    VettingLabel.objects.create(tce=tce, user=vetter, label="PC", confidence="high", comment=XSS, flags=["odd_even"])
    VettingLabel.objects.create(tce=tce, user=adjudicator, label="PC", comment="agree")
    client.force_login(vetter)
    body = page(client, tce).content.decode()
    history = body[body.index('id="label-history"'):]
    history = history[:history.index("</table>")]
    assert history.count("<tr>") == 1 + 3  # the head and every label, superseded ones too
    assert "first look" in history and "odd_even" in history
    assert XSS not in body and "&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in body
    assert "<img src=x" not in body
    # my own newest label is in the header
    header = body[body.index('id="vet-header"'):body.index('class="vet-main"')]
    assert re.search(r'id="my-label"[^>]*>PC \(high', header)


def test_it_keeps_the_queue_in_the_preset_tabs_and_the_page_config(client, tce, tmp_path, vetter):
    store_views(tce, tmp_path)
    store_views(tce, tmp_path, preset="yu2019")
    client.force_login(vetter)
    body = page(client, tce, queue="uncertain", preset="yu2019").content.decode()
    assert '?preset=gaia&amp;queue=uncertain' in body
    assert re.search(r'aria-current="page" class="current">yu2019<', body)
    assert '"queue": "uncertain"' in body and '"preset": "yu2019"' in body


def test_it_answers_404_for_an_unknown_tce(client):
    assert client.get("/vet/tces/999999/").status_code == 404


def test_the_tce_page_links_to_the_vetting_page(client, tce):
    body = client.get(f"/tces/{tce.pk}/").content.decode()
    assert f'href="/vet/tces/{tce.pk}/"' in body and "Vet this TCE" in body
