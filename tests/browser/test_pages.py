"""A person's view of the site: the Bokeh light curve draws pixels; the job page shows live progress."""

from __future__ import annotations

import re
import time

import pytest
from django.db import transaction

from apps.jobs.services import job_enqueue
from tests.factories import TargetFactory, TCEFactory, lightcurve_from_fits

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DRAWN_PIXELS_JS = """
() => {
  const canvases = [...document.querySelectorAll('div.bk-Figure, div.bk-Column, div[data-root-id]')]
    .flatMap(el => [...(el.shadowRoot ? el.shadowRoot.querySelectorAll('canvas') : []), ...el.querySelectorAll('canvas')]);
  function collect(root, out) {
    for (const el of root.querySelectorAll('*')) {
      if (el.tagName === 'CANVAS') out.push(el);
      if (el.shadowRoot) collect(el.shadowRoot, out);
    }
    return out;
  }
  const all = collect(document, []);
  let best = 0;
  for (const c of all) {
    if (!c.width || !c.height) continue;
    const ctx = c.getContext('2d');
    if (!ctx) continue;
    const data = ctx.getImageData(0, 0, c.width, c.height).data;
    let painted = 0;
    for (let i = 0; i < data.length; i += 4) {
      const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
      if (a > 0 && !(r > 245 && g > 245 && b > 245)) painted++;
    }
    best = Math.max(best, painted);
  }
  return {canvases: all.length, painted: best};
}
"""


def test_it_draws_the_light_curve_on_the_target_page(page, live_server, demo_data):
    target = TargetFactory(identifier="2306740", name="KIC 2306740")
    lightcurve_from_fits(target, demo_data / "kepler" / "kplr002306740-2009259160929_llc.fits", quarter=2)
    TCEFactory(target=target, period_days=10.307, epoch=134.0, duration_hours=8.0)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server.url}/targets/{target.pk}/")
    page.wait_for_selector("#lightcurve-plot")
    deadline = time.monotonic() + 20
    drawn = {"painted": 0}
    while time.monotonic() < deadline:
        drawn = page.evaluate(DRAWN_PIXELS_JS)
        if drawn["painted"] > 2000:
            break
        time.sleep(0.3)
    assert not errors, errors
    assert drawn["painted"] > 2000, drawn


def test_it_shows_job_progress_changing_without_reload(page, live_server, worker):
    with transaction.atomic():
        job = job_enqueue(kind="worker_check", params={"steps": 8, "pause_s": 0.6})
    page.goto(f"{live_server.url}/jobs/{job.pk}/")
    page.evaluate("window.__marker = 'same page'")
    seen = set()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        text = page.inner_text("#job-progress")
        seen.add(text)
        if page.inner_text("#job-status") == "succeeded":
            break
        time.sleep(0.2)
    assert page.inner_text("#job-status") == "succeeded"
    assert page.evaluate("window.__marker") == "same page"
    counts = {int(m.group(1)) for t in seen if (m := re.match(r"(\d+)", t))}
    assert len(counts) >= 3, seen
    assert "8 / 8" in page.inner_text("#job-progress")
