"""The target page at 1400x900: the light curve's legend fits however many quarters or sectors there
are, and the centroid time series under it draws and zooms with it. Real Kepler and TESS files."""

from __future__ import annotations

import time

import pytest
from astropy.io import fits

from apps.catalog.models import Mission
from tests.factories import TargetFactory, TCEFactory, lightcurve_from_fits

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

KEPLER_EB = "kplr002306740-*_llc.fits"  # KIC 2306740: all 17 quarters
TESS_SECTORS = {  # two sectors each, years apart
    "AU Mic": ("441420236", ["tess2018206045859-s0001-0000000441420236-0120-s_lc.fits",
                             "tess2025206162959-s0095-0000000441420236-0292-s_lc.fits"]),
    "HD 106315": ("56815340", ["tess2021336043614-s0046-0000000056815340-0217-s_lc.fits",
                               "tess2025099153000-s0091-0000000056815340-0288-s_lc.fits"]),
}

# Bounding boxes (page coordinates) of a plot container's Bokeh figure and of its legends, looked
# up through the shadow roots BokehJS renders into.
BOXES_JS = """
(selector) => {
  const host = document.querySelector(selector);
  if (!host) return null;
  const all = [];
  (function walk(root) { for (const el of root.querySelectorAll('*')) { all.push(el); if (el.shadowRoot) walk(el.shadowRoot); } })(host);
  const box = (el) => { const r = el.getBoundingClientRect();
    return {left: r.left, top: r.top + scrollY, right: r.right, bottom: r.bottom + scrollY}; };
  const figure = all.find((el) => el.classList && el.classList.contains('bk-Figure'));
  const legends = all.filter((el) => el.classList && el.classList.contains('bk-Legend'));
  return {figure: figure ? box(figure) : null, legends: legends.map(box),
          labels: legends.map((el) => (el.shadowRoot || el).textContent)};
}
"""

BOX_JS = "(selector) => { const r = document.querySelector(selector).getBoundingClientRect(); return {top: r.top + scrollY, bottom: r.bottom + scrollY}; }"

# Painted (non-white) pixels of the canvases inside one plot container.
PAINTED_JS = """
(selector) => {
  const canvases = [];
  (function walk(root) { for (const el of root.querySelectorAll('*')) {
    if (el.tagName === 'CANVAS') canvases.push(el); if (el.shadowRoot) walk(el.shadowRoot); } })(document.querySelector(selector));
  let best = 0;
  for (const c of canvases) {
    if (!c.width || !c.height) continue;
    const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let painted = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3] > 0 && !(data[i] > 245 && data[i + 1] > 245 && data[i + 2] > 245)) painted++;
    }
    best = Math.max(best, painted);
  }
  return best;
}
"""

RANGES_JS = """
() => {
  const doc = Bokeh.documents[0];
  const lc = doc.get_model_by_name('lightcurve'), cen = doc.get_model_by_name('centroid');
  return {shared: lc.x_range.id === cen.x_range.id,
          lc: [lc.x_range.start, lc.x_range.end], centroid: [cen.x_range.start, cen.x_range.end]};
}
"""


def kepler_eb(demo_data):
    target = TargetFactory(identifier="2306740", name="KIC 2306740")
    for path in sorted((demo_data / "kepler").glob(KEPLER_EB)):
        lightcurve_from_fits(target, path, quarter=fits.getheader(path)["QUARTER"])
    for number, period in enumerate((10.3071, 2.1, 4.7), start=1):  # three DR24-like TCEs
        TCEFactory(target=target, tce_number=number, period_days=period, epoch=138.731, duration_hours=4.5)
    return target


def tess_star(demo_data, name: str):
    tic, files = TESS_SECTORS[name]
    target = TargetFactory(mission=Mission.TESS, identifier=tic, name=name)
    for filename in files:
        path = demo_data / "tess" / filename
        lightcurve_from_fits(target, path, quarter=fits.getheader(path)["SECTOR"])
    TCEFactory(target=target, mission=Mission.TESS, tce_number=1, period_days=8.463, epoch=1330.39,
               epoch_system="BTJD", duration_hours=3.5)
    return target


def open_target(browser, live_server, target, shot: str):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server.url}/targets/{target.pk}/")
    deadline = time.monotonic() + 30
    boxes = None
    while time.monotonic() < deadline:
        boxes = page.evaluate(BOXES_JS, "#lightcurve-plot")
        if boxes and boxes["legends"] and page.evaluate(PAINTED_JS, "#centroid-plot") > 500:
            break
        time.sleep(0.3)
    time.sleep(0.5)  # let the layout settle before measuring
    page.screenshot(path=shot, full_page=True)
    return context, page, errors


@pytest.mark.parametrize("star", ["KIC 2306740", "AU Mic", "HD 106315"])
def test_it_keeps_the_light_curve_legend_inside_its_figure(browser, live_server, demo_data, tmp_path, star):
    target = kepler_eb(demo_data) if star == "KIC 2306740" else tess_star(demo_data, star)
    context, page, errors = open_target(browser, live_server, target, str(tmp_path / "target.png"))
    try:
        boxes = page.evaluate(BOXES_JS, "#lightcurve-plot")
        below = [page.evaluate(BOX_JS, sel) for sel in ("#centroid-plot", "#lightcurve-caption", "#lightcurve-table")]
    finally:
        context.close()
    assert not errors, errors
    figure = boxes["figure"]
    assert boxes["legends"], boxes
    for legend in boxes["legends"]:
        assert figure["left"] - 1 <= legend["left"] and legend["right"] <= figure["right"] + 1, (legend, figure)
        assert figure["top"] - 1 <= legend["top"] and legend["bottom"] <= figure["bottom"] + 1, (legend, figure)
        for element in below:
            assert legend["bottom"] <= element["top"], (legend, element)
    labels = " ".join(boxes["labels"])
    assert "transits" in labels
    first, last = ("Q1", "Q17") if star == "KIC 2306740" else {"AU Mic": ("S1", "S95"), "HD 106315": ("S46", "S91")}[star]
    assert f"{first}–{last}" in labels, labels


def test_it_draws_the_centroid_series_under_the_light_curve_on_a_shared_time_axis(browser, live_server, demo_data, tmp_path):
    target = tess_star(demo_data, "AU Mic")
    context, page, errors = open_target(browser, live_server, target, str(tmp_path / "centroid.png"))
    try:
        painted = page.evaluate(PAINTED_JS, "#centroid-plot")
        before = page.evaluate(RANGES_JS)
        lc_plot = page.evaluate(BOX_JS, "#lightcurve-plot")
        centroid_box = page.evaluate(BOX_JS, "#centroid-plot")
        # Zoom the light curve with the mouse wheel (its active scroll tool): the centroids follow.
        page.mouse.move(600, (lc_plot["top"] + lc_plot["bottom"]) / 2 - page.evaluate("scrollY"))
        page.mouse.wheel(0, -600)
        deadline = time.monotonic() + 10
        after = before
        while time.monotonic() < deadline and after["centroid"] == before["centroid"]:
            time.sleep(0.2)
            after = page.evaluate(RANGES_JS)
        legend_text = " ".join(page.evaluate(BOXES_JS, "#centroid-plot")["labels"])
    finally:
        context.close()
    assert not errors, errors
    assert painted > 2000, painted
    assert centroid_box["top"] >= lc_plot["bottom"] - 1  # under the light curve
    assert before["shared"], before
    assert after["lc"] == after["centroid"], after
    assert after["centroid"][1] - after["centroid"][0] < 0.9 * (before["centroid"][1] - before["centroid"][0]), (before, after)
    assert "column" in legend_text and "row" in legend_text and "transits" in legend_text, legend_text


# Points of one segment's flux source inside [lo, hi], and the whole source's length.
WINDOW_POINTS_JS = """
([name, lo, hi]) => {
  const data = Bokeh.documents[0].get_model_by_name(name).data;
  return {inside: Array.from(data.t).filter((t) => t >= lo && t <= hi).length, total: data.t.length};
}
"""
SET_RANGE_JS = "([lo, hi]) => { const r = Bokeh.documents[0].get_model_by_name('lightcurve').x_range; r.start = lo; r.end = hi; }"


def wait_for_points(page, args, until) -> dict:  # noqa: ANN001
    deadline, points = time.monotonic() + 15, page.evaluate(WINDOW_POINTS_JS, args)
    while time.monotonic() < deadline and not until(points):
        time.sleep(0.2)
        points = page.evaluate(WINDOW_POINTS_JS, args)
    return points


def test_zooming_in_fetches_the_visible_window_at_full_resolution(browser, live_server, demo_data, tmp_path):
    from apps.lightcurves.selectors import lightcurve_series

    target = kepler_eb(demo_data)
    curve = target.lightcurves.get(quarter_or_sector=3)
    lo, hi = curve.time_start + 5.0, curve.time_start + 8.0
    window = lightcurve_series(lightcurve=curve, max_points=None, t_min=lo, t_max=hi)
    expected = int((~window.flagged).sum())
    context, page, errors = open_target(browser, live_server, target, str(tmp_path / "target.png"))
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url) if "t_min=" in request.url else None)
    try:
        args = ["flux:Q3", lo, hi]
        overview = page.evaluate(WINDOW_POINTS_JS, args)
        page.evaluate(SET_RANGE_JS, [lo, hi])
        zoomed = wait_for_points(page, args, lambda p: p["inside"] >= expected)
        page.screenshot(path=str(tmp_path / "zoomed.png"))
        page.evaluate(SET_RANGE_JS, [curve.time_start - 400, curve.time_end + 1200])  # out past every quarter
        restored = wait_for_points(page, args, lambda p: p["total"] == overview["total"])
    finally:
        context.close()
    assert not errors, errors
    assert overview["inside"] < expected / 2, (overview, expected)  # the page came downsampled
    assert zoomed["inside"] == zoomed["total"] == expected, (zoomed, expected)  # every good cadence, nothing else
    assert any(f"/api/lightcurves/{curve.pk}/series?" in url for url in asked), asked
    assert restored == overview, (restored, overview)  # zoomed out: the overview again, no refetch of all
