"""A job page opened while the job waits shows, once the job ends and without a reload, its final
state in full: times, attempts, artifacts, provenance, and a report summary whose links work."""

from __future__ import annotations

import dramatiq
import pytest
from django.db import transaction

from apps.jobs.services import job_enqueue
from tests.browser.conftest import login
from tests.factories import TargetFactory, TCEFactory, lightcurve_from_fits

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_shows_the_finished_job_in_full_without_a_reload(browser, live_server, broker, demo_data, operator, tmp_path):
    target = TargetFactory(identifier="2306740", name="KIC 2306740")
    lightcurve_from_fits(target, demo_data / "kepler" / "kplr002306740-2009259160929_llc.fits", quarter=2)
    tce = TCEFactory(target=target, period_days=10.307, epoch=138.748, duration_hours=18.64)
    with transaction.atomic():
        job = job_enqueue(kind="process_target", params={"target_id": target.pk, "presets": ["gaia"]},
                          targets=[target], user=operator)
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    worker = None
    try:
        login(page, live_server, operator.username)
        page.goto(f"{live_server.url}/jobs/{job.pk}/")
        assert page.inner_text("#job-status") == "queued"  # no worker yet: the page opens on a waiting job
        assert "— / —" in page.inner_text("#job-times") and page.inner_text("#job-attempts") == "0"
        page.evaluate("window.__marker = 'same page'")
        worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=50)
        worker.start()
        page.wait_for_function("document.getElementById('job-status').textContent === 'succeeded'", timeout=60000)
        page.wait_for_function("!document.getElementById('job-times').textContent.includes('—')", timeout=10000)
        page.screenshot(path=str(tmp_path / "job.png"), full_page=True)
        assert page.evaluate("window.__marker") == "same page"
        assert page.inner_text("#job-attempts") == "1"
        artifacts = page.inner_text("#job-artifacts")
        assert f"tce/{tce.pk}/views/gaia" in artifacts and f"target/{target.pk}/flattened/gaia" in artifacts
        assert "code_version" in page.inner_text("#job-provenance")
        assert page.inner_text("#job-timings").strip() not in ("", "{}")
        assert page.locator("#cancel-form").count() == 0
        # The raw JSON is one click away; the summary links what the job made.
        assert not page.is_visible("#job-result")
        page.click("#job-raw-report summary")
        assert '"tce_ids"' in page.inner_text("#job-result")
        download = page.locator("#job-artifacts a").first.get_attribute("href")
        assert page.request.get(f"{live_server.url}{download}").status == 200
        page.click(f"#job-summary a[href='/tces/{tce.pk}/']")
        page.wait_for_url(f"{live_server.url}/tces/{tce.pk}/")
        assert tce.label in page.inner_text("h1")
    finally:
        if worker is not None:
            worker.stop(timeout=10_000)
        context.close()
    assert not errors, errors
