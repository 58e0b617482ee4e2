"""Bokeh builders for GALEX products: a stretched sky image with ra/dec hover, a movie player
linked to light curves. Arrays in, Bokeh layout out."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from bokeh.layouts import column, row
from bokeh.models import (
    Button,
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


def stretch(data: np.ndarray, kind: str) -> np.ndarray:
    """Display stretch of a counts image: ``log`` (log10(1 + counts)) or ``asinh`` (scaled by the noise)."""
    values = np.nan_to_num(np.asarray(data, dtype=float), nan=0.0)
    if kind == "log":
        return np.log10(1.0 + np.clip(values, 0, None))
    if kind == "asinh":
        positive = values[values > 0]
        scale = float(np.median(positive)) if positive.size else 1.0
        return np.arcsinh(values / max(scale, 1e-9))
    if kind == "linear":
        return values
    raise ValueError(f"unknown stretch {kind!r}")


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
        tooltips=[("RA", "$x{custom}"), ("Dec", "$y{custom}"), ("value", "@image{0.00}")],
        formatters={"$x": formatters["$ra_x"], "$y": formatters["$dec_x"]},
    )


def sky_image_figure(
    data: np.ndarray,
    *,
    crval: tuple[float, float],
    crpix: tuple[float, float],
    cdelt: tuple[float, float],
    factor: int = 1,
    sources_x: Sequence[float] = (),
    sources_y: Sequence[float] = (),
    title: str = "",
):
    """Counts image with a log/asinh stretch selector, ra/dec on hover and detected sources circled.

    ``sources_x``/``sources_y`` are 0-based pixel positions on the full-resolution product;
    the display image is ``factor``-times block-summed.
    """
    ny, nx = data.shape
    stretched = {kind: stretch(data, kind) for kind in ("log", "asinh")}
    source = ColumnDataSource({"image": [stretched["log"]]})
    mapper = LinearColorMapper(palette=Greys256[::-1], low=0, high=float(np.percentile(stretched["log"], 99.7)) or 1.0)
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
    select = Select(title="stretch", value="log", options=["log", "asinh"], width=120)
    select.js_on_change(
        "value",
        CustomJS(
            args={"source": source, "mapper": mapper, "log": stretched["log"].tolist(), "asinh": stretched["asinh"].tolist(),
                  "highs": {k: float(np.percentile(v, 99.7)) or 1.0 for k, v in stretched.items()}},
            code="""
// An image may be given as an array of rows; BokehJS flattens it.
source.data = {image: [cb_obj.value === 'log' ? log : asinh]};
mapper.high = highs[cb_obj.value];
""",
        ),
    )
    return column(select, fig)


def movie_player(
    frames: Sequence[np.ndarray],
    t_mid: np.ndarray,
    curves: Sequence[dict],
    *,
    time_label: str | None = None,
):
    """A frame slider with a play button beside light curves; the current frame's time is marked.

    Times are shown in seconds since the first frame's centre (GALEX times are ~7e8 s).
    """
    if not frames:
        raise ValueError("a movie needs at least one frame")
    t_ref = float(t_mid[0])
    t_mid = np.asarray(t_mid, dtype=float) - t_ref
    time_label = time_label or f"seconds since GALEX time {t_ref:.1f}"
    stretched = [stretch(frame, "log") for frame in frames]
    ny, nx = stretched[0].shape
    high = float(np.percentile(np.stack(stretched), 99.7)) or 1.0
    frame_source = ColumnDataSource({"image": [stretched[0]]})
    viewer = figure(title="movie frame 1", width=min(420, 80 + 2 * nx), height=min(420, 60 + 2 * ny),
                    x_range=(0, nx), y_range=(0, ny), match_aspect=True, tools="pan,wheel_zoom,reset",
                    output_backend="canvas")
    viewer.image(image="image", source=frame_source, x=0, y=0, dw=nx, dh=ny,
                 color_mapper=LinearColorMapper(palette=Viridis256, low=0, high=high))
    lc = figure(title="light curves (counts/s, ±1σ)", height=360, sizing_mode="stretch_width", tools=TOOLS,
                x_axis_label=time_label, y_axis_label="cps", output_backend="canvas")
    for index, curve in enumerate(curves):
        color = Category10_10[index % 10]
        src = ColumnDataSource({"t": t_mid, "cps": curve["cps"], "lo": curve["cps"] - curve["cps_err"],
                                "hi": curve["cps"] + curve["cps_err"], "flag": curve["flags"]})
        lc.scatter("t", "cps", source=src, color=color, size=4, legend_label=curve["label"])
        lc.line("t", "cps", source=src, color=color, legend_label=curve["label"])
        lc.add_layout(Whisker(source=src, base="t", upper="hi", lower="lo", line_color=color))
    lc.add_tools(HoverTool(tooltips=[("t", "@t{0.0}"), ("cps", "@cps{0.000}"), ("flag", "@flag")]))
    if curves:
        lc.legend.click_policy = "hide"
        lc.legend.label_text_font_size = "8pt"
    marker = Span(location=float(t_mid[0]), dimension="height", line_color="#d62728", line_width=2)
    lc.add_layout(marker)
    slider = Slider(start=1, end=max(2, len(frames)), value=1, step=1, title="frame", width=300,
                    disabled=len(frames) < 2)
    frames_js = [f.tolist() for f in stretched]
    slider.js_on_change(
        "value",
        CustomJS(
            args={"source": frame_source, "frames": frames_js, "times": [float(t) for t in t_mid], "marker": marker,
                  "viewer": viewer},
            code="""
const k = Math.min(frames.length, Math.max(1, cb_obj.value)) - 1;
source.data = {image: [frames[k]]};  // an array of rows; BokehJS flattens it
marker.location = times[Math.min(k, times.length - 1)];
viewer.title.text = `movie frame ${k + 1}`;
""",
        ),
    )
    button = Button(label="▶ play", width=90)
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
