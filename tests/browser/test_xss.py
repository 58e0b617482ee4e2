"""Hostile text typed by users (a target name, a vetting note, a job error) renders as text on
every page, Bokeh figures included: no script runs, no dialog opens, no injected element exists."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.jobs.models import JobStatus
from apps.vetting.models import VettingLabel
from tests.browser.conftest import login
from tests.conftest import make_user
from tests.factories import JobFactory, TargetFactory, TCEFactory, lightcurve_from_fits

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PAYLOAD = "</script><img src=x onerror=alert(1)>"


def test_hostile_text_stays_text_everywhere(page, live_server, demo_data, django_user_model):
    target = TargetFactory(identifier="2306740", name=PAYLOAD)
    lightcurve_from_fits(target, demo_data / "kepler" / "kplr002306740-2009259160929_llc.fits", quarter=2)
    tce = TCEFactory(target=target, period_days=10.307, epoch=134.0, duration_hours=8.0)
    vetter = make_user(django_user_model, "xss-vetter", "vetter")
    VettingLabel.objects.create(tce=tce, user=vetter, label="PC", comment=PAYLOAD)
    job = JobFactory(status=JobStatus.FAILED, error_summary=PAYLOAD, error_detail=PAYLOAD)
    job.targets.set([target])
    make_user(django_user_model, "xss-admin", "admin")

    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    urls = ["/", "/targets/", f"/targets/?q={PAYLOAD}", f"/targets/{target.pk}/", "/tces/",
            f"/tces/{tce.pk}/", "/jobs/", f"/jobs/{job.pk}/"]
    urls.append(reverse("vet-tce", kwargs={"tce_id": tce.pk}))
    for who in (None, "xss-admin"):
        if who:
            login(page, live_server, who)
        for url in urls:
            page.goto(f"{live_server.url}{url}")
            page.wait_for_load_state("load")
            page.wait_for_timeout(300)  # let BokehJS render figures
            assert page.locator("img[src='x']").count() == 0, url
            assert dialogs == [], url
    # The text itself is shown, as text, where it belongs.
    page.goto(f"{live_server.url}/jobs/{job.pk}/")
    assert PAYLOAD in page.inner_text("#job-error")
