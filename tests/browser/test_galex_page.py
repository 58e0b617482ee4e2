"""The eclipse page at 1400x900: the movie's frames come from the API as it plays, the frame
advances and the time marker moves along the light curves."""

from __future__ import annotations

import time

import pytest

from apps.galex.services import eclipse_reduce, eclipse_simulate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STATE_JS = """
() => {
  const doc = Bokeh.documents.find((d) => d.get_model_by_name('galex-movie-slider'));
  if (!doc) return null;
  const frame = doc.get_model_by_name('galex-movie-frame').data.image[0];
  const flat = Array.from(frame);
  return {slider: doc.get_model_by_name('galex-movie-slider').value,
          end: doc.get_model_by_name('galex-movie-slider').end,
          marker: doc.get_model_by_name('galex-movie-marker').location,
          title: doc.get_model_by_name('galex-movie-viewer').title.text,
          frameSum: flat.reduce((a, b) => a + b, 0)};
}
"""


def test_playing_the_movie_advances_frames_and_moves_the_time_marker(browser, live_server, settings, demo_data):
    settings.GALEX_CAL_DIR = demo_data / "galex" / "cal_data"
    eclipse = eclipse_simulate(n_events=60_000, seed=4, duration=240.0)
    eclipse_reduce(eclipse=eclipse, depth=20.0)
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    frame_requests: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("request", lambda req: frame_requests.append(req.url) if "/movie/frames" in req.url else None)
    try:
        response = page.goto(f"{live_server.url}/galex/{eclipse.pk}/")
        assert response.status == 200 and len(response.body()) < 1_500_000
        deadline = time.monotonic() + 30
        state = None
        while time.monotonic() < deadline and state is None:
            state = page.evaluate(STATE_JS)
            time.sleep(0.2)
        assert state is not None, "the movie player did not render"
        assert state["slider"] == 1 and state["end"] >= 10, state
        first = state
        page.get_by_role("button", name="▶ play").click()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            state = page.evaluate(STATE_JS)
            if state["slider"] >= 4 and state["frameSum"] != first["frameSum"]:
                break
            time.sleep(0.2)
        page.get_by_role("button", name="❚❚ pause").click()
        # the image in another stretch comes from the API too
        image_sum = "() => Array.from(Bokeh.documents.find((d) => d.get_model_by_name('galex-image-source')).get_model_by_name('galex-image-source').data.image[0]).reduce((a, b) => a + b, 0)"
        before = page.evaluate(image_sum)
        page.evaluate("() => { const d = Bokeh.documents.find((d) => d.get_model_by_name('galex-image-stretch')); d.get_model_by_name('galex-image-stretch').value = 'asinh'; }")
        deadline = time.monotonic() + 10
        after = before
        while time.monotonic() < deadline and after == before:
            time.sleep(0.2)
            after = page.evaluate(image_sum)
    finally:
        context.close()
    assert not errors, errors
    assert state["slider"] >= 4, state
    assert state["marker"] > first["marker"], (first, state)
    assert state["title"] == f"movie frame {state['slider']}" or state["title"].startswith("movie frame"), state
    assert state["frameSum"] != first["frameSum"], "the frame image never changed"
    assert frame_requests and "start=0" in frame_requests[0], frame_requests
    assert after != before, "the asinh stretch never arrived"
