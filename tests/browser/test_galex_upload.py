"""The staff upload page in chromium: an operator follows the list's link, picks a simulated raw6 and
gPhoton 2's aspect tables (several files in one input), lands on the new eclipse's page; a corrupt
raw6 comes back with its reason and registers nothing."""

from __future__ import annotations

import pytest

from apps.galex.models import Eclipse
from apps.galex.science.simulate import simulate_eclipse
from tests.browser.conftest import login
from tests.conftest import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_operator_uploads_an_eclipse_through_the_page(page, live_server, django_user_model, demo_data, tmp_path):
    sim = simulate_eclipse(tmp_path / "sim", demo_data / "galex" / "cal_data", n_events=20_000, seed=6)
    tables = [str(sim.aspect_dir / name) for name in ("aspect.parquet", "boresight.parquet", "metadata.parquet")]
    make_user(django_user_model, "otto", "operator")
    login(page, live_server, "otto")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    corrupt = tmp_path / "e23456-nd-raw6.fits.gz"
    corrupt.write_bytes(b"\x1f\x8b this is no gzip stream")
    page.goto(f"{live_server.url}/galex/")
    page.click("#galex-upload-link")
    page.set_input_files("input[name=raw6]", str(corrupt))
    page.set_input_files("input[name=aspect]", tables)
    page.click("#galex-upload button[type=submit]")
    page.wait_for_load_state("load")
    assert page.url.endswith("/galex/upload/")
    assert "e23456-nd-raw6.fits.gz" in page.inner_text("#upload-error")
    assert not Eclipse.objects.exists()

    page.set_input_files("input[name=raw6]", str(sim.raw6_path))
    page.set_input_files("input[name=aspect]", tables)
    page.fill("input[name=eclipse]", "23456")
    page.select_option("select[name=band]", "NUV")
    page.fill("input[name=label]", "from the browser")
    page.click("#galex-upload button[type=submit]")
    page.wait_for_load_state("load")
    eclipse = Eclipse.objects.get(number=23456, band="NUV")
    assert page.url.endswith(f"/galex/{eclipse.pk}/") and eclipse.label == "from the browser"
    assert "Registered from the browser:" in page.inner_text(".messages")
    assert errors == []
