"""Pure Bokeh figure builders: arrays in, a Bokeh model out. No database access here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from bokeh.layouts import column
from bokeh.models import ColumnDataSource, HoverTool, Span
from bokeh.palettes import Category10_10
from bokeh.plotting import figure

TOOLS = "pan,wheel_zoom,box_zoom,reset,save"


@dataclass(frozen=True)
class Segment:
    """One quarter/sector of a light curve, ready to draw (already normalised and downsampled)."""

    label: str
    time: np.ndarray
    flux: np.ndarray
    flagged: np.ndarray  # bool, cadences that fail the default quality mask


def lightcurve_figure(
    segments: Sequence[Segment],
    *,
    time_label: str,
    transit_times: Sequence[tuple[str, np.ndarray]] = (),
    title: str = "",
    height: int = 320,
):
    """Normalised flux per segment; flagged cadences as grey crosses; TCE transit times as lines."""
    fig = figure(
        title=title,
        height=height,
        sizing_mode="stretch_width",
        tools=TOOLS,
        active_scroll="wheel_zoom",
        x_axis_label=time_label,
        y_axis_label="normalised flux",
        output_backend="canvas",
    )
    for index, segment in enumerate(segments):
        good = ~segment.flagged
        color = Category10_10[index % 10]
        source = ColumnDataSource({"t": segment.time[good], "f": segment.flux[good]})
        fig.scatter("t", "f", source=source, size=2, color=color, legend_label=segment.label)
        if segment.flagged.any():
            bad = ColumnDataSource({"t": segment.time[segment.flagged], "f": segment.flux[segment.flagged]})
            fig.scatter("t", "f", source=bad, size=4, marker="x", color="#999999", legend_label="flagged")
    for index, (label, times) in enumerate(transit_times):
        color = Category10_10[(index + 3) % 10]
        for t in times:
            fig.add_layout(Span(location=float(t), dimension="height", line_color=color, line_alpha=0.35, line_dash="dashed"))
        if len(times):
            fig.scatter([times[0]], [np.nan], color=color, legend_label=f"{label} transits")
    fig.add_tools(HoverTool(tooltips=[("time", "@t{0.0000}"), ("flux", "@f{0.000000}")]))
    if segments:
        legend = fig.legend[0]
        legend.click_policy = "hide"
        legend.label_text_font_size = "8pt"
        legend.spacing = 0
        legend.padding = 4
        fig.add_layout(legend, "right")  # beside the plot, never over the data
    return fig


def trend_figure(time: np.ndarray, flux: np.ndarray, trend: np.ndarray, flat: np.ndarray, *, time_label: str):
    """Raw flux with its fitted trend above, the flattened series below (shared time axis)."""
    top = figure(height=260, sizing_mode="stretch_width", tools=TOOLS, y_axis_label="flux", output_backend="canvas")
    top.scatter(time, flux, size=2, color="#1f77b4", legend_label="flux")
    top.line(time, trend, color="#d62728", line_width=2, legend_label="trend")
    bottom = figure(
        height=220, sizing_mode="stretch_width", tools=TOOLS, x_range=top.x_range,
        x_axis_label=time_label, y_axis_label="flux / trend", output_backend="canvas",
    )
    bottom.scatter(time, flat, size=2, color="#2ca02c")
    return column(top, bottom, sizing_mode="stretch_width")


def view_figure(view: np.ndarray, *, title: str, x: np.ndarray | None = None, x_label: str = "bin", height: int = 220):
    """One binned view (global, local, odd, even, secondary, centroid) as points and a line."""
    values = np.asarray(view, dtype=float)
    xs = np.arange(values.size) if x is None else np.asarray(x, dtype=float)
    fig = figure(title=title, height=height, sizing_mode="stretch_width", tools=TOOLS, x_axis_label=x_label, output_backend="canvas")
    source = ColumnDataSource({"x": xs, "y": values})
    fig.line("x", "y", source=source, color="#444444")
    fig.scatter("x", "y", source=source, size=3, color="#1f77b4")
    fig.add_tools(HoverTool(tooltips=[("x", "@x{0.000}"), ("value", "@y{0.0000}")]))
    return fig


def histogram_figure(values: np.ndarray, *, title: str, x_label: str, bins: int = 40, log_x: bool = False):
    """Histogram of a catalogue column (periods, durations); log bins when the range spans decades."""
    data = np.asarray(values, dtype=float)
    data = data[np.isfinite(data) & ((data > 0) if log_x else True)]
    fig = figure(
        title=title, height=260, sizing_mode="stretch_width", tools=TOOLS, x_axis_label=x_label,
        y_axis_label="count", x_axis_type="log" if log_x else "linear", output_backend="canvas",
    )
    if data.size == 0:
        return fig
    if log_x:
        edges = np.logspace(np.log10(data.min()), np.log10(data.max()) + 1e-9, bins + 1)
    else:
        edges = np.linspace(data.min(), data.max() + 1e-9, bins + 1)
    counts, edges = np.histogram(data, bins=edges)
    fig.quad(top=counts, bottom=0, left=edges[:-1], right=edges[1:], fill_color="#1f77b4", line_color="white")
    return fig


def bar_figure(labels: Sequence[str], counts: Sequence[int], *, title: str):
    fig = figure(x_range=list(labels), title=title, height=260, sizing_mode="stretch_width", tools="save", output_backend="canvas")
    fig.vbar(x=list(labels), top=list(counts), width=0.8, color="#ff7f0e")
    fig.xaxis.major_label_orientation = 0.8
    return fig


def per_transit_figure(times: np.ndarray, depths: np.ndarray, errors: np.ndarray, *, time_label: str):
    """Depth of each observed transit with its error: a gallery that shows odd/even or drifting depths."""
    fig = figure(
        title="Per-transit depth", height=220, sizing_mode="stretch_width", tools=TOOLS,
        x_axis_label=f"mid-transit time ({time_label})", y_axis_label="depth", output_backend="canvas",
    )
    source = ColumnDataSource({"t": times, "d": depths, "lo": depths - errors, "hi": depths + errors})
    fig.segment("t", "lo", "t", "hi", source=source, color="#999999")
    fig.scatter("t", "d", source=source, size=5, color="#9467bd")
    fig.add_tools(HoverTool(tooltips=[("time", "@t{0.000}"), ("depth", "@d{0.000000}")]))
    return fig


def curve_figure(x, y, *, title: str, x_label: str, y_label: str, diagonal: bool = False, reference=None):  # noqa: ANN001
    """A line through (x, y): ROC, precision-recall or recall curves; optional reference curve."""
    fig = figure(title=title, height=300, sizing_mode="stretch_width", tools=TOOLS, x_axis_label=x_label, y_axis_label=y_label, output_backend="canvas")
    fig.line(list(map(float, x)), list(map(float, y)), line_width=2, color="#1f77b4", legend_label="model")
    if diagonal:
        fig.line([0, 1], [0, 1], line_dash="dashed", color="#999999")
    if reference is not None and len(reference[1]):
        fig.line(list(map(float, reference[0])), list(map(float, reference[1])), line_dash="dashed", color="#d62728", legend_label="Kepler pipeline (Christiansen 2015)")
    fig.legend.location = "bottom_right"
    return fig


def reliability_figure(before: dict | None, after: dict | None):
    """Reliability diagram: observed positive fraction against mean predicted probability per bin."""
    fig = figure(title="Reliability (validation)", height=300, sizing_mode="stretch_width", tools=TOOLS, x_axis_label="mean predicted probability", y_axis_label="fraction positive", output_backend="canvas")
    fig.line([0, 1], [0, 1], line_dash="dashed", color="#999999")
    for data, color, label in ((before, "#ff7f0e", "before scaling"), (after, "#2ca02c", "after temperature scaling")):
        if data and data.get("mean_probability"):
            # Empty bins are null: draw only the bins that held predictions.
            pairs = [(m, f) for m, f in zip(data["mean_probability"], data["fraction_positive"], strict=True)
                     if m is not None and f is not None]
            xs, ys = [p[0] for p in pairs], [p[1] for p in pairs]
            fig.line(xs, ys, color=color, line_width=2, legend_label=label)
            fig.scatter(xs, ys, color=color, size=5)
    fig.legend.location = "top_left"
    return fig
