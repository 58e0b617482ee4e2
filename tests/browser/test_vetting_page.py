"""A vetter at a 1400x900 screen: labelling by keyboard, re-folding live, the gallery, the layout,
and a hostile note that stays text. Real Kepler data (KIC 2306740, an eclipsing binary)."""

from __future__ import annotations

import time

import pytest

from apps.lightcurves.services import target_process
from apps.vetting.models import VettingLabel
from tests.browser.conftest import login
from tests.conftest import make_user
from tests.factories import TargetFactory, TCEFactory, lightcurve_from_fits

# serialized_rollback: the flush after each test would drop the role groups the migrations made.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

EB_FILES = ["kplr002306740-2009259160929_llc.fits", "kplr002306740-2009350155506_llc.fits"]
VIEWPORT = {"width": 1400, "height": 900}
XSS = "</script><img src=x onerror=alert(1)>"
BOKEH_READY = "() => window.Bokeh && Bokeh.documents.length > 0 && Bokeh.documents[0].get_model_by_name('view-global-source') !== null"
SOURCE_Y = "(name) => Array.from(Bokeh.documents[0].get_model_by_name(name).data.y)"
SOURCE_X = "(name) => Array.from(Bokeh.documents[0].get_model_by_name(name).data.x)"


@pytest.fixture
def eclipsing_binary(demo_data):
    """KIC 2306740 (two quarters) with its DR24 TCE processed by the gaia preset; no catalogue depth/SNR."""
    target = TargetFactory(identifier="2306740", name="KIC 2306740")
    for quarter, name in enumerate(EB_FILES, start=2):
        lightcurve_from_fits(target, demo_data / "kepler" / name, quarter=quarter)
    tce = TCEFactory(target=target, tce_number=3, period_days=10.307, epoch=138.748, duration_hours=18.64,
                     depth_ppm=None, snr=60.0)
    target_process(target=target, presets=["gaia"])
    return tce


@pytest.fixture
def screen(browser):
    context = browser.new_context(viewport=VIEWPORT)
    opened = context.new_page()
    errors: list[str] = []
    dialogs: list[str] = []
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    opened.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    yield opened
    context.close()
    assert not errors, errors
    assert not dialogs, f"a dialog opened: {dialogs}"


def open_vet_page(page, live_server, tce, query: str = "") -> None:  # noqa: ANN001
    page.goto(f"{live_server.url}/vet/tces/{tce.pk}/{query}")
    page.wait_for_function(BOKEH_READY, timeout=20000)


FOCUSED = "() => { const el = document.activeElement; return el ? (el.id || `${el.name}=${el.value}`) : null; }"


def test_it_labels_by_keyboard_and_opens_the_next_tce_of_the_queue(screen, live_server, eclipsing_binary, django_user_model):
    make_user(django_user_model, "keys", "vetter")
    other = TCEFactory(snr=5.0, depth_ppm=300.0)  # lower SNR: second in the "unlabelled" queue
    login(screen, live_server, "keys")
    screen.goto(f"{live_server.url}/vet/next/?queue=unlabelled")
    screen.wait_for_url(f"**/vet/tces/{eclipsing_binary.pk}/?queue=unlabelled")
    screen.wait_for_function(BOKEH_READY, timeout=20000)
    # No mouse from here on.
    screen.keyboard.press("3")  # NEB: the third code shown
    assert screen.locator("input[name=label]:checked").get_attribute("value") == "NEB"
    screen.keyboard.press("1")  # 1 = planet candidate
    assert screen.locator("input[name=label]:checked").get_attribute("value") == "PC"
    assert screen.evaluate(FOCUSED) == "label=PC"
    # Tab leaves the dispositions for the confidence, the six flags and the note, in that order.
    seen = []
    for _ in range(8):
        screen.keyboard.press("Tab")
        seen.append(screen.evaluate(FOCUSED))
    assert seen[0] == "confidence=medium" and seen[1:7] == [f"flags={f}" for f in
        ("odd_even", "secondary", "centroid_offset", "v_shape", "single_event", "data_gaps")] and seen[7] == "label-note"
    # Keys typed into the note are text, not shortcuts; Enter there is a new line.
    screen.keyboard.type("2 s b")
    screen.keyboard.press("Enter")
    screen.keyboard.type("ok")
    assert screen.locator("input[name=label]:checked").get_attribute("value") == "PC"
    assert screen.input_value("#label-note") == "2 s b\nok"
    screen.keyboard.press("Tab")
    assert screen.evaluate(FOCUSED) == "save"
    outline = screen.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # keyboard focus is visible
    screen.keyboard.press("Enter")
    screen.wait_for_url(f"**/vet/tces/{other.pk}/?queue=unlabelled", timeout=20000)
    label = VettingLabel.objects.get(tce=eclipsing_binary)
    assert (label.label, label.user.username, label.comment, label.confidence) == ("PC", "keys", "2 s b\nok", "medium")
    assert label.views_preset == "gaia" and label.views_version == 1
    assert label.period_days is None  # the ephemeris was not changed, so none was proposed


def test_the_focus_order_runs_refold_then_form_then_plots(screen, live_server, eclipsing_binary, django_user_model):
    make_user(django_user_model, "tabber", "vetter")
    login(screen, live_server, "tabber")
    open_vet_page(screen, live_server, eclipsing_binary)
    order = []
    for _ in range(60):
        screen.keyboard.press("Tab")
        order.append(screen.evaluate(FOCUSED))
    wanted = ["refold-period", "refold-epoch", "refold-duration", "refold-reset", "label=PC", "label-note", "save", "skip"]
    positions = [order.index(name) for name in wanted]
    assert positions == sorted(positions), order


def test_it_saves_with_ctrl_enter_from_the_note_and_stays_without_a_queue(screen, live_server, eclipsing_binary, django_user_model):
    make_user(django_user_model, "stay", "vetter")
    login(screen, live_server, "stay")
    open_vet_page(screen, live_server, eclipsing_binary)
    screen.evaluate("window.__marker = 'same page'")
    screen.locator("body").click(position={"x": 5, "y": 890})
    screen.keyboard.press("2")
    screen.check("input[name=confidence][value=high]")
    screen.check("input[name=flags][value=secondary]")
    screen.fill("#label-note", XSS)
    screen.focus("#label-note")
    screen.keyboard.press("Control+Enter")
    screen.wait_for_function("document.getElementById('form-status').textContent.startsWith('Saved')")
    assert screen.evaluate("window.__marker") == "same page"
    label = VettingLabel.objects.get(tce=eclipsing_binary)
    assert (label.label, label.confidence, label.flags, label.comment) == ("EB", "high", ["secondary"], XSS)
    assert "EB (high" in screen.inner_text("#my-label")
    assert XSS in screen.inner_text("#label-history")
    assert screen.locator("img[src='x']").count() == 0


def test_it_refolds_the_views_in_the_browser_without_a_reload(screen, live_server, eclipsing_binary, django_user_model):
    make_user(django_user_model, "fold", "vetter")
    login(screen, live_server, "fold")
    open_vet_page(screen, live_server, eclipsing_binary)
    screen.evaluate("window.__marker = 'same page'")
    before_x = screen.evaluate(SOURCE_X, "view-global-source")
    before_y = screen.evaluate(SOURCE_Y, "view-global-source")
    local_before = screen.evaluate(SOURCE_Y, "view-local-source")
    assert min(before_x) == pytest.approx(-10.307 / 2, abs=0.01) and max(before_x) == pytest.approx(10.307 / 2, abs=0.01)
    assert len(before_y) == 2001
    flat_points = screen.evaluate("() => Bokeh.documents[0].get_model_by_name('refold-flat').data.time.length")
    assert 1000 < flat_points <= 50_000

    screen.fill("#refold-period", str(10.307 * 2))  # fold at twice the period: both eclipses in one view
    screen.wait_for_function(
        "(before) => { const y = Bokeh.documents[0].get_model_by_name('view-global-source').data.y;"
        " return y.length === before.length && y.some((v, i) => Math.abs(v - before[i]) > 1e-6); }",
        arg=before_y, timeout=10000,
    )
    after_x = screen.evaluate(SOURCE_X, "view-global-source")
    assert max(after_x) == pytest.approx(10.307, abs=0.02)  # x is phase in days, now over twice the span
    global_after = screen.evaluate(SOURCE_Y, "view-global-source")
    # Two eclipses in the doubled fold: a second deep dip half a (new) period from the first.
    assert min(global_after) == pytest.approx(-1.0)
    half = len(global_after) // 2
    assert min(global_after[:half // 2] + global_after[-half // 2:]) < -0.2
    assert screen.is_visible("#propose-row") and screen.is_checked("#propose")
    screen.fill("#refold-duration", "9.0")
    screen.wait_for_function(
        "(before) => { const y = Bokeh.documents[0].get_model_by_name('view-local-source').data.y;"
        " return y.some((v, i) => Math.abs(v - before[i]) > 1e-6); }", arg=local_before, timeout=10000,
    )
    assert screen.evaluate("window.__marker") == "same page"
    # Saving now proposes the changed ephemeris with the label.
    screen.locator("body").click(position={"x": 5, "y": 890})
    screen.keyboard.press("2")
    screen.keyboard.press("Enter")
    screen.wait_for_function("document.getElementById('form-status').textContent.startsWith('Saved')")
    label = VettingLabel.objects.get(tce=eclipsing_binary)
    assert label.period_days == pytest.approx(20.614) and label.duration_hours == pytest.approx(9.0)
    assert label.epoch == pytest.approx(138.748)
    # Reset puts the stored views back.
    screen.click("#refold-reset")
    assert screen.evaluate(SOURCE_Y, "view-global-source") == pytest.approx(before_y)
    assert not screen.is_visible("#propose-row")


def test_the_gallery_has_one_cut_out_per_observed_transit(screen, live_server, eclipsing_binary):
    from apps.lightcurves.selectors import tce_diagnostics_latest

    diagnostics, _artifact = tce_diagnostics_latest(tce_id=eclipsing_binary.pk)
    observed = diagnostics["transit_number"]
    assert diagnostics["n_transits"] == len(observed) >= 10
    open_vet_page(screen, live_server, eclipsing_binary)
    titles_of = "() => Bokeh.documents[0].get_model_by_name('cutout-titles').data_source.data"
    numbers = screen.evaluate(f"() => [...({titles_of})().number]")
    assert sorted(numbers) == sorted(int(n) for n in observed)
    assert f"{len(observed)} of {len(observed)} observed transits" in screen.inner_text("main")
    # Each cut-out is titled with its depth and SNR, and drawn (one gallery figure holds them all).
    titles = screen.evaluate(f"() => [...({titles_of})().text]")
    n_points = screen.evaluate("() => Bokeh.documents[0].get_model_by_name('cutout-points').data_source.get_length()")
    assert n_points > 10 * len(observed)
    assert all("SNR" in t and ("ppm" in t or "%" in t) for t in titles), titles


def test_the_essentials_fit_in_1400_by_900_without_scrolling(screen, live_server, eclipsing_binary, django_user_model, tmp_path):
    make_user(django_user_model, "layout", "vetter")
    login(screen, live_server, "layout")
    open_vet_page(screen, live_server, eclipsing_binary)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and screen.evaluate(
        "() => document.querySelector('#plot-local .bk-Figure, #plot-local [data-root-id] *') === null"
    ):
        time.sleep(0.2)
    screen.wait_for_timeout(500)  # BokehJS lays the figures out
    for selector in ("#vet-header", "#plot-global", "#plot-local", "#plot-odd-even", "#label-form", "#save", "#refold"):
        box = screen.locator(selector).bounding_box()
        assert box is not None, selector
        assert box["x"] >= 0 and box["y"] >= 0, (selector, box)
        assert box["x"] + box["width"] <= VIEWPORT["width"] + 0.5, (selector, box)
        assert box["y"] + box["height"] <= VIEWPORT["height"] + 0.5, (selector, box)
        assert box["height"] > 20 and box["width"] > 100, (selector, box)
    assert screen.locator("#plot-global").bounding_box()["height"] > 180  # a real plot, not a collapsed box
    assert screen.evaluate("() => window.scrollY") == 0
    screen.screenshot(path=str(tmp_path / "vet_1400x900.png"))


def test_a_hostile_note_renders_as_text_and_no_dialog_opens(screen, live_server, eclipsing_binary, django_user_model):
    author = make_user(django_user_model, "author", "vetter")
    VettingLabel.objects.create(tce=eclipsing_binary, user=author, label="EB", comment=XSS)
    open_vet_page(screen, live_server, eclipsing_binary)
    screen.wait_for_timeout(300)
    assert XSS in screen.inner_text("#label-history")
    assert screen.locator("img[src='x']").count() == 0
    # ... the shortcuts dialog is a <dialog>, not window.alert: it opens with "?" and Esc closes it
    screen.locator("body").click(position={"x": 5, "y": 890})
    screen.keyboard.press("?")
    assert screen.is_visible("#shortcuts")
    assert "Enter" in screen.inner_text("#shortcuts") and "planet candidate" in screen.inner_text("#shortcuts")
    screen.keyboard.press("Escape")
    assert not screen.is_visible("#shortcuts")


def test_a_viewer_sees_the_panels_but_no_form_and_keys_do_not_label(screen, live_server, eclipsing_binary, django_user_model):
    make_user(django_user_model, "watcher", "viewer")
    login(screen, live_server, "watcher")
    open_vet_page(screen, live_server, eclipsing_binary)
    assert screen.locator("#label-form").count() == 0
    screen.locator("body").click(position={"x": 5, "y": 890})
    screen.keyboard.press("1")
    screen.keyboard.press("Enter")
    screen.wait_for_timeout(300)
    assert VettingLabel.objects.count() == 0
    assert "/vet/tces/" in screen.url
