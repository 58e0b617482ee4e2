"""Bokeh builders for GALEX products: a stretched sky image with ra/dec hover, a movie player
linked to light curves. Arrays in, Bokeh layout out."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from bokeh.layouts import column, row
from bokeh.models import (
    Button,
    CheckboxGroup,
    ColumnDataSource,
    CustomJS,
    CustomJSHover,
    HoverTool,
    LinearColorMapper,
    Select,
    Slider,
    Span,
    Whisker,
)
from bokeh.palettes import Category10_10, Greys256, Viridis256
from bokeh.plotting import figure

from apps.plots.figures import TOOLS

# Inverse gnomonic (TAN) projection in the browser: pixel -> (ra, dec) from CRVAL/CRPIX/CDELT.
_TAN_JS = """
const d2r = Math.PI / 180;
const px = (special_vars.x + 0.5) * FACTOR + 0.5, py = (special_vars.y + 0.5) * FACTOR + 0.5;
const xi = (px - CRPIX1) * CDELT1 * d2r, eta = (py - CRPIX2) * CDELT2 * d2r;
const ra0 = CRVAL1 * d2r, dec0 = CRVAL2 * d2r;
const den = Math.cos(dec0) - eta * Math.sin(dec0);
let ra = (ra0 + Math.atan2(xi, den)) / d2r;
const dec = Math.atan2(Math.sin(dec0) + eta * Math.cos(dec0), Math.hypot(xi, den)) / d2r;
ra = ((ra % 360) + 360) % 360;
return WHICH === "ra" ? ra.toFixed(5) + "°" : dec.toFixed(5) + "°";
"""


# Base64 uint8 planes (the API's frame and image answers) -> the 2-D array an image glyph takes.
_PLANE_JS = """
function gaiaPlane(b64, ny, nx) {
  const bin = atob(b64), buf = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) buf[i] = bin.charCodeAt(i);
  return Bokeh.require("core/util/ndarray").ndarray(buf, {dtype: "uint8", shape: [ny, nx]});
}
"""


def _radec_hover(crval, crpix, cdelt, factor: int) -> HoverTool:  # noqa: ANN001
    formatters = {}
    for which in ("ra", "dec"):
        code = (
            _TAN_JS.replace("CRPIX1", repr(crpix[0])).replace("CRPIX2", repr(crpix[1]))
            .replace("CDELT1", repr(cdelt[0])).replace("CDELT2", repr(cdelt[1]))
            .replace("CRVAL1", repr(crval[0])).replace("CRVAL2", repr(crval[1]))
            .replace("FACTOR", str(int(factor))).replace("WHICH", f'"{which}"')
        )
        formatters[f"${which}_x"] = CustomJSHover(code=code)
    return HoverTool(
        tooltips=[("RA", "$x{custom}"), ("Dec", "$y{custom}"), ("level", "@image")],
        formatters={"$x": formatters["$ra_x"], "$y": formatters["$dec_x"]},
    )


def sky_image_figure(
    planes: dict[str, np.ndarray],
    *,
    crval: tuple[float, float],
    crpix: tuple[float, float],
    cdelt: tuple[float, float],
    factor: int = 1,
    sources_x: Sequence[float] = (),
    sources_y: Sequence[float] = (),
    title: str = "",
    stretch_url: str | None = None,
):
    """A display image (uint8 planes by stretch, white at 255) with a stretch selector, ra/dec on
    hover and detected sources circled.

    The ``log`` plane is embedded (as binary); with ``stretch_url`` the other stretches are fetched
    when chosen (``GET stretch_url?stretch=asinh`` answering ``{"shape", "data"}``, base64 uint8),
    else every plane in ``planes`` is embedded. ``sources_x``/``sources_y`` are 0-based pixel
    positions on the full-resolution product; a display pixel is ``factor`` x ``factor`` of those.
    """
    first = np.ascontiguousarray(planes["log"], dtype=np.uint8)
    ny, nx = first.shape
    source = ColumnDataSource({"image": [first]}, name="galex-image-source")
    mapper = LinearColorMapper(palette=Greys256[::-1], low=0, high=255)
    fig = figure(
        title=title, width=min(720, 120 + nx), height=min(720, 60 + ny), match_aspect=True,
        x_range=(0, nx), y_range=(0, ny), tools=TOOLS, output_backend="canvas",
    )
    fig.image(image="image", source=source, x=0, y=0, dw=nx, dh=ny, color_mapper=mapper)
    fig.add_tools(_radec_hover(crval, crpix, cdelt, factor))
    if len(sources_x):
        xs = (np.asarray(sources_x, float) + 0.5) / factor
        ys = (np.asarray(sources_y, float) + 0.5) / factor
        fig.scatter(xs, ys, marker="circle", size=14, fill_alpha=0, line_color="#e6550d", line_width=1.5,
                    legend_label="detected sources")
    embedded = {"log": first} if stretch_url else {k: np.ascontiguousarray(v, np.uint8) for k, v in planes.items()}
    planes_source = ColumnDataSource({k: [v] for k, v in embedded.items()})
    select = Select(title="stretch", value="log", options=["log", "asinh"], width=120, name="galex-image-stretch")
    select.js_on_change(
        "value",
        CustomJS(
            args={"source": source, "planes": planes_source, "url": stretch_url or "", "ny": ny, "nx": nx},
            code=_PLANE_JS + """
const kind = cb_obj.value;
if (planes.data[kind] !== undefined) { source.data = {image: [planes.data[kind][0]]}; return; }
fetch(`${url}?stretch=${encodeURIComponent(kind)}`, {credentials: "same-origin"})
  .then((r) => r.json())
  .then((a) => { source.data = {image: [gaiaPlane(a.data, a.shape[0], a.shape[1])]}; });
""",
        ),
    )
    return column(select, fig)


def movie_player(
    first_frame: np.ndarray,
    n_frames: int,
    t_mid: np.ndarray,
    curves: Sequence[dict],
    *,
    frames_url: str,
    batch: int = 16,
    time_label: str | None = None,
):
    """A frame slider with a play button beside light curves; the current frame's time is marked.

    Only the first frame (uint8, log stretch) is in the page: the others are fetched as they are
    shown, ``batch`` at a time (``GET frames_url?start=k&count=batch`` answering
    ``{"n_frames", "start", "shape", "frames": [base64 uint8, ...]}``) and kept. Times are shown in
    seconds since the first frame's centre (GALEX times are ~7e8 s).
    """
    if n_frames < 1:
        raise ValueError("a movie needs at least one frame")
    t_ref = float(t_mid[0])
    t_mid = np.asarray(t_mid, dtype=float) - t_ref
    time_label = time_label or f"seconds since GALEX time {t_ref:.1f}"
    first = np.ascontiguousarray(first_frame, dtype=np.uint8)
    ny, nx = first.shape
    frame_source = ColumnDataSource({"image": [first]}, name="galex-movie-frame")
    viewer = figure(title="movie frame 1", width=min(420, 80 + 2 * nx), height=min(420, 60 + 2 * ny),
                    x_range=(0, nx), y_range=(0, ny), match_aspect=True, tools="pan,wheel_zoom,reset",
                    output_backend="canvas", name="galex-movie-viewer")  # fmt: skip
    viewer.image(image="image", source=frame_source, x=0, y=0, dw=nx, dh=ny,
                 color_mapper=LinearColorMapper(palette=Viridis256, low=0, high=255))
    lc = figure(title="light curves (counts/s, ±1σ)", height=360, sizing_mode="stretch_width", tools=TOOLS,
                x_axis_label=time_label, y_axis_label="cps", output_backend="canvas")
    # One source for every curve, and two glyphs per curve (points, error bars): a few Bokeh
    # models each, so building and serialising the page stays well under a second.
    data = {"t": t_mid}
    for index, curve in enumerate(curves):
        data[f"cps{index}"] = np.asarray(curve["cps"], float)
        data[f"lo{index}"] = data[f"cps{index}"] - np.asarray(curve["cps_err"], float)
        data[f"hi{index}"] = data[f"cps{index}"] + np.asarray(curve["cps_err"], float)
        data[f"flag{index}"] = np.asarray(curve["flags"])
    src = ColumnDataSource(data)
    points = []
    for index, curve in enumerate(curves):
        color = Category10_10[index % 10]
        points.append(lc.scatter("t", f"cps{index}", source=src, color=color, size=5, legend_label=curve["label"]))
        lc.segment("t", f"lo{index}", "t", f"hi{index}", source=src, color=color, legend_label=curve["label"])
    lc.add_tools(HoverTool(renderers=points, tooltips=[("t", "@t{0.0}"), ("cps", "$y{0.000}")]))
    if curves:
        lc.legend.click_policy = "hide"
        lc.legend.label_text_font_size = "8pt"
    marker = Span(location=float(t_mid[0]), dimension="height", line_color="#d62728", line_width=2,
                  name="galex-movie-marker")
    lc.add_layout(marker)
    slider = Slider(start=1, end=max(2, n_frames), value=1, step=1, title="frame", width=300,
                    disabled=n_frames < 2, name="galex-movie-slider")
    slider.js_on_change(
        "value",
        CustomJS(
            args={"source": frame_source, "times": [float(t) for t in t_mid], "marker": marker, "viewer": viewer,
                  "url": frames_url, "batch": int(batch), "n": int(n_frames), "slider": slider},
            code=_PLANE_JS + """
const store = (window.__gaiaMovieFrames = window.__gaiaMovieFrames || {});
const cache = (store[url] = store[url] || {frames: {}, pending: {}});
const k = Math.min(n, Math.max(1, slider.value)) - 1;
marker.location = times[Math.min(k, times.length - 1)];
viewer.title.text = `movie frame ${k + 1}`;
function show() { if (cache.frames[k] !== undefined && slider.value - 1 === k) source.data = {image: [cache.frames[k]]}; }
function load(start) {
  if (start >= n || cache.pending[start]) return cache.pending[start];
  cache.pending[start] = fetch(`${url}?start=${start}&count=${batch}`, {credentials: "same-origin"})
    .then((r) => r.json())
    .then((a) => { a.frames.forEach((f, i) => { cache.frames[a.start + i] = gaiaPlane(f, a.shape[0], a.shape[1]); }); });
  return cache.pending[start];
}
const start = Math.floor(k / batch) * batch;
if (cache.frames[k] !== undefined) show(); else load(start).then(show);
if (k % batch >= batch / 2) load(start + batch);  // the next page, before play reaches it
""",
        ),
    )
    button = Button(label="▶ play", width=90, name="galex-movie-play")
    button.js_on_event(
        "button_click",
        CustomJS(
            args={"slider": slider, "button": button},
            code="""
if (window.__gaiaMovieTimer) { clearInterval(window.__gaiaMovieTimer); window.__gaiaMovieTimer = null; button.label = '▶ play'; return; }
button.label = '❚❚ pause';
window.__gaiaMovieTimer = setInterval(() => { slider.value = slider.value >= slider.end ? slider.start : slider.value + 1; }, 400);
""",
        ),
    )
    return column(row(button, slider), row(viewer, lc, sizing_mode="stretch_width"), sizing_mode="stretch_width")


def gaperture_figure(t: np.ndarray, cps: np.ndarray, err: np.ndarray, *, title: str):
    """A gPhoton gAperture light curve with Poisson error bars."""
    fig = figure(title=title, height=280, sizing_mode="stretch_width", tools=TOOLS,
                 x_axis_label="GALEX time (s)", y_axis_label="cps", output_backend="canvas")
    src = ColumnDataSource({"t": t, "cps": cps, "lo": cps - err, "hi": cps + err})
    fig.scatter("t", "cps", source=src, size=3)
    fig.add_layout(Whisker(source=src, base="t", upper="hi", lower="lo", line_color="#999999"))
    return fig


BJD_DISPLAY_OFFSET = 2450000.0


def cross_mission_figure(curves: Sequence[dict], *, title: str = ""):
    """Relative flux of several missions on one BJD_TDB axis, with a toggle per mission.

    Each curve: ``mission`` (toggle group), ``label``, ``bjd`` (days), ``flux`` and ``err``
    (already divided by the curve's median). Times are shown as BJD - 2450000.
    """
    missions = list(dict.fromkeys(c["mission"] for c in curves))
    fig = figure(title=title, height=340, sizing_mode="stretch_width", tools=TOOLS, output_backend="canvas",
                 x_axis_label="BJD − 2450000 (TDB)", y_axis_label="flux / median", name="cross-mission")  # fmt: skip
    groups: dict[str, list] = {m: [] for m in missions}
    for index, curve in enumerate(curves):
        color = Category10_10[index % 10]
        t = np.asarray(curve["bjd"], float) - BJD_DISPLAY_OFFSET
        src = ColumnDataSource({"t": t, "f": curve["flux"], "lo": curve["flux"] - curve["err"],
                                "hi": curve["flux"] + curve["err"]})  # fmt: skip
        size = 2 if curve["mission"] != "GALEX" else 5
        groups[curve["mission"]].append(fig.scatter("t", "f", source=src, size=size, color=color,
                                                    legend_label=curve["label"], name=f"curve-{index}"))  # fmt: skip
        if curve["mission"] == "GALEX":
            groups[curve["mission"]].append(fig.segment("t", "lo", "t", "hi", source=src, color=color,
                                                        legend_label=curve["label"]))  # fmt: skip
    if curves:
        fig.legend.click_policy = "hide"
        fig.legend.label_text_font_size = "8pt"
    toggles = CheckboxGroup(labels=missions, active=list(range(len(missions))), inline=True, name="mission-toggles")
    toggles.js_on_change(
        "active",
        CustomJS(
            args={"groups": [groups[m] for m in missions]},
            code="groups.forEach((renderers, i) => renderers.forEach((r) => { r.visible = cb_obj.active.includes(i); }));",
        ),
    )
    return column(toggles, fig, sizing_mode="stretch_width")
