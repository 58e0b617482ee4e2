"""Pages render with real data, filters work, and missing objects give a 404 page."""

import pytest

from tests.factories import JobFactory, TargetFactory, TCEFactory, lightcurve_from_fits

pytestmark = pytest.mark.django_db


def test_it_shows_counts_and_histograms_on_the_dashboard(client):
    TCEFactory(period_days=3.5)
    TCEFactory(period_days=120.0, disposition="AFP")
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-count="tces">2<' in html
    assert "TCE periods" in html and "/static/bokeh/bokeh.min.js" in html
    assert "cdn.bokeh.org" not in html


def test_it_filters_the_target_list(client):
    TargetFactory(identifier="11442793", name="Kepler-90")
    TargetFactory(identifier="5", magnitude=9.0)
    html = client.get("/targets/", {"q": "Kepler-90"}).content.decode()
    assert "KIC 11442793" in html and "KIC 5<" not in html
    assert "empty" in client.get("/targets/", {"mag_min": 15, "mag_max": 10}).content.decode()


def test_it_renders_a_target_page_with_its_plot_tces_and_links(client, demo_data):
    target = TargetFactory(identifier="2306740")
    TCEFactory(target=target, period_days=10.307)
    lightcurve_from_fits(target, demo_data / "kepler" / "kplr002306740-2009259160929_llc.fits", quarter=2)
    html = client.get(f"/targets/{target.pk}/").content.decode()
    assert "lightcurve-plot" in html and "Bokeh" in html
    assert "exofop.ipac.caltech.edu" in html and "simbad" in html.lower()
    assert "10.30700" in html


def test_it_answers_404_pages_for_unknown_objects(client):
    assert client.get("/targets/987654/").status_code == 404
    assert client.get("/tces/987654/").status_code == 404
    assert client.get("/jobs/987654/").status_code == 404


def test_it_renders_tce_and_job_pages(client):
    tce = TCEFactory()
    job = JobFactory()
    assert client.get(f"/tces/{tce.pk}/").status_code == 200
    assert client.get("/tces/", {"sort": "-period"}).status_code == 200
    html = client.get(f"/jobs/{job.pk}/").content.decode()
    assert f"/api/jobs/{job.pk}" in html


def test_it_lets_only_operators_open_the_enqueue_form(client, viewer, staff):
    assert client.get("/jobs/new/").status_code == 302
    client.force_login(viewer)
    assert client.get("/jobs/new/").status_code == 403
    client.force_login(staff)
    response = client.get("/jobs/new/")
    assert response.status_code == 200 and "worker_check" in response.content.decode()
    created = client.post("/jobs/new/", {"kind": "worker_check", "params": '{"steps": 2}', "target_ids": ""})
    assert created.status_code == 302


def test_it_draws_the_same_stars_k2_light_curve_on_the_tess_target_page(client, demo_data):
    # HD 106315 (K2-109): its K2 campaign on the TESS target's page, moved from BKJD to BTJD
    tess = TargetFactory(mission="tess", identifier="56815340", ra=183.47224, dec=-0.39392)
    k2 = TargetFactory(mission="k2", identifier="201437844", ra=183.47232, dec=-0.39390)
    lightcurve_from_fits(tess, demo_data / "tess" / "tess2021336043614-s0046-0000000056815340-0217-s_lc.fits", quarter=46)
    lightcurve_from_fits(k2, demo_data / "k2" / "ktwo201437844-c102_llc.fits", quarter=102)
    html = client.get(f"/targets/{tess.pk}/").content.decode()
    assert 'id="same-star"' in html and f'href="/targets/{k2.pk}/"' in html and "BKJD −2167 d" in html.replace("-", "−")
    assert "K2 C102" in html and "S46" in html  # both segments in the one plot
    assert '"offsets"' in html or "offsets" in html
    assert 'id="same-star"' in client.get(f"/targets/{k2.pk}/").content.decode()
