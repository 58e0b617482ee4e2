"""The catalogue API: pagination, filters, series and clear 4xx answers."""

import pytest

from tests.factories import TargetFactory, TCEFactory, lightcurve_from_fits

pytestmark = pytest.mark.django_db


def test_it_lists_targets_with_pagination(client):
    for _ in range(7):
        TargetFactory()
    response = client.get("/api/targets", {"limit": 5})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 7 and len(body["items"]) == 5
    assert client.get("/api/targets", {"limit": 5, "offset": 5}).json()["items"][0]["display_id"].startswith("KIC")


def test_it_caps_the_page_size(client):
    response = client.get("/api/targets", {"limit": 100000})
    assert response.status_code == 422


def test_it_searches_targets_by_name(client):
    TargetFactory(identifier="11442793", name="Kepler-90")
    TargetFactory()
    items = client.get("/api/targets", {"q": "Kepler-90"}).json()["items"]
    assert [item["identifier"] for item in items] == ["11442793"]


def test_it_answers_404_with_a_message_for_unknown_ids(client):
    response = client.get("/api/targets/999999")
    assert response.status_code == 404
    assert "does not exist" in response.json()["detail"]
    assert client.get("/api/tces/999999").status_code == 404
    assert client.get("/api/lightcurves/999999/series").status_code == 404


def test_it_answers_422_for_bad_filters(client):
    assert client.get("/api/targets", {"mag_min": "bright"}).status_code == 422
    response = client.get("/api/targets", {"mag_min": 15, "mag_max": 10})
    assert response.status_code == 422 and "empty" in response.json()["detail"]
    assert client.get("/api/tces", {"sort": "nonsense"}).status_code == 422


def test_it_filters_and_sorts_tces(client):
    target = TargetFactory()
    TCEFactory(target=target, period_days=3.0, snr=30)
    TCEFactory(target=target, period_days=30.0, snr=10)
    periods = [t["period_days"] for t in client.get("/api/tces", {"sort": "-period"}).json()["items"]]
    assert periods == [30.0, 3.0]
    assert client.get("/api/tces", {"snr_min": 20}).json()["count"] == 1
    assert client.get(f"/api/targets/{target.pk}/tces").json()["count"] == 2


def test_it_serves_a_downsampled_series_unless_full_is_asked(client, demo_data):
    target = TargetFactory(identifier="2306740")
    curve = lightcurve_from_fits(target, demo_data / "kepler" / "kplr002306740-2009259160929_llc.fits", quarter=2)
    small = client.get(f"/api/lightcurves/{curve.pk}/series", {"max_points": 500}).json()
    assert small["downsampled"] is True and len(small["time"]) <= 500
    full = client.get(f"/api/lightcurves/{curve.pk}/series", {"full": True}).json()
    assert full["downsampled"] is False and len(full["time"]) == full["n_points_total"] > 4000
    assert abs(sorted(v for v in full["flux"] if v is not None)[len(full["flux"]) // 2] - 1.0) < 0.01
    assert client.get(f"/api/lightcurves/{curve.pk}/series", {"max_points": 1}).status_code == 422


def test_it_serves_a_time_window_at_full_resolution_on_the_overview_scale(client, demo_data):
    """What a zoomed plot asks for: the window's every point, normalised like the whole series."""
    target = TargetFactory(identifier="2306740")
    curve = lightcurve_from_fits(target, demo_data / "kepler" / "kplr002306740-2009259160929_llc.fits", quarter=2)
    url = f"/api/lightcurves/{curve.pk}/series"
    full = client.get(url, {"full": True}).json()
    t_min, t_max = full["time"][1000], full["time"][1300]
    window = client.get(url, {"t_min": t_min, "t_max": t_max, "max_points": 500}).json()
    assert window["downsampled"] is False and window["n_points_total"] == 301
    assert window["time"] == full["time"][1000:1301]
    assert window["flux"] == full["flux"][1000:1301]  # same median reference as the whole quarter
    assert window["t_min"] == t_min and window["t_max"] == t_max
    wide = client.get(url, {"t_min": t_min, "max_points": 500}).json()
    assert wide["downsampled"] is True and len(wide["time"]) <= 500 and wide["n_points_total"] == len(full["time"]) - 1000
    assert min(wide["time"]) >= t_min
    for bad in ({"t_min": t_max, "t_max": t_min}, {"t_min": "nan"}, {"t_max": "inf"}):
        response = client.get(url, bad)
        assert response.status_code == 422, (bad, response.content)
