"""/api/docs renders offline: django-ninja's bundled Swagger UI, no request leaves the site."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_api_docs_render_from_local_assets_only(page, live_server):
    requested: list[str] = []
    errors: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    page.goto(f"{live_server.url}/api/docs")
    page.wait_for_selector("#swagger-ui .opblock", timeout=20_000)
    page.wait_for_load_state("networkidle")

    operations = page.locator("#swagger-ui .opblock-summary-path").all_inner_texts()
    assert len(operations) > 10 and any(path.startswith("/api/targets") for path in operations), operations
    assert page.locator("#swagger-ui .info .title").inner_text().startswith("GAIA web API")
    assert not errors, errors

    site = urlsplit(live_server.url).netloc
    foreign = [url for url in requested if urlsplit(url).scheme in ("http", "https") and urlsplit(url).netloc != site]
    assert not foreign, foreign
    assert any("/static/ninja/swagger-ui-bundle" in url for url in requested), requested
