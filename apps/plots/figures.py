"""Pure Bokeh figure builders: arrays in, a Bokeh model out. No database access here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from bokeh.layouts import column
from bokeh.models import ColumnDataSource, CustomJS, HoverTool, Legend, LegendItem
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
    #: Where the full-resolution series of a time window is fetched from when the plot is zoomed
    #: (``?t_min=&t_max=&max_points=`` are appended); empty when the drawn points are all there is.
    series_url: str = ""
    downsampled: bool = False
    #: Days added to the fetched series' times to put them on the plot's clock (another mission's
    #: light curve of the same star drawn on this target's: K2's BKJD on TESS's BTJD is -2167).
    time_offset: float = 0.0


@dataclass(frozen=True)
class CentroidSegment:
    """One quarter/sector's flux-weighted centroid (MOM_CENTR1/2, pixels) at good cadences."""

    label: str
    time: np.ndarray
    column: np.ndarray
    row: np.ndarray


#: Figures stacked on one time axis keep the same borders, so their frames (and times) line up;
#: the right border holds the legend (at most 2 + 6 entries, see ``lightcurve_figure``).
STACKED_BORDERS = {"min_border_left": 70, "min_border_right": 190}
#: TCEs whose transits get a mark and a legend entry (the legend must fit beside a short plot).
MAX_TRANSIT_SETS = 6


def _transit_marks(fig, transit_times: Sequence[tuple[str, np.ndarray]]) -> list[LegendItem]:  # noqa: ANN001
    """Dashed vertical lines at each TCE's transit times, one legend entry (and toggle) per TCE."""
    items = []
    for index, (label, times) in enumerate(transit_times[:MAX_TRANSIT_SETS]):
        if not len(times):
            continue
        color = Category10_10[(index + 3) % 10]
        marks = fig.vspan(x=np.asarray(times, dtype=float), line_color=color, line_alpha=0.45, line_dash="dashed")
        items.append(LegendItem(label=f"{label} transits", renderers=[marks]))
    return items


def _side_legend(fig, items: list[LegendItem]) -> None:  # noqa: ANN001
    """A compact, clickable legend beside the plot (never over the data)."""
    if not items:
        return
    legend = Legend(
        items=items, click_policy="hide", label_text_font_size="8pt", spacing=0, padding=4,
        glyph_height=16, label_height=16,
    )
    fig.add_layout(legend, "right")


def lightcurve_figure(
    segments: Sequence[Segment],
    *,
    time_label: str,
    transit_times: Sequence[tuple[str, np.ndarray]] = (),
    title: str = "",
    height: int = 320,
    segments_label: str | None = None,
    zoom_points: int = 16_000,
):
    """Normalised flux per segment; flagged cadences as grey crosses; TCE transit times as lines.

    Segments drawn downsampled that carry a ``series_url`` are refetched for the visible window when
    the plot is zoomed or panned (``zoom_points`` shared by the visible segments), and drawn from the
    overview again when zoomed back out: full resolution where the user looks, a light page.

    The legend has one entry for all segments (however many quarters or sectors: it must fit beside
    the plot; hover names a point's segment), one for the flagged cadences and one per TCE.
    """
    fig = figure(
        title=title,
        height=height,
        sizing_mode="stretch_width",
        tools=TOOLS,
        active_scroll="wheel_zoom",
        x_axis_label=time_label,
        y_axis_label="normalised flux",
        output_backend="canvas",
        name="lightcurve",
        **STACKED_BORDERS,
    )
    drawn, flagged, zoomable = [], [], []
    for index, segment in enumerate(segments):
        good = ~segment.flagged
        color = Category10_10[index % 10]
        source = ColumnDataSource(
            {"t": segment.time[good], "f": segment.flux[good], "s": [segment.label] * int(good.sum())},
            name=f"flux:{segment.label}",
        )
        drawn.append(fig.scatter("t", "f", source=source, size=2, color=color))
        bad = ColumnDataSource(
            {"t": segment.time[segment.flagged], "f": segment.flux[segment.flagged]}, name=f"flagged:{segment.label}"
        )
        if segment.flagged.any() or (segment.series_url and segment.downsampled):
            flagged.append(fig.scatter("t", "f", source=bad, size=4, marker="x", color="#999999"))
        if segment.series_url and segment.downsampled and segment.time.size:
            zoomable.append((segment, source, bad))
    if zoomable:
        _fetch_zoomed_window(fig, zoomable, points=zoom_points)
    items = []
    if drawn:
        label = segments_label or (segments[0].label if len(segments) == 1 else f"{segments[0].label}–{segments[-1].label}")
        items.append(LegendItem(label=label, renderers=drawn))
    if any(len(r.data_source.data["t"]) for r in flagged):
        items.append(LegendItem(label="flagged", renderers=flagged))
    items += _transit_marks(fig, transit_times)
    fig.add_tools(HoverTool(renderers=drawn, tooltips=[("", "@s"), ("time", "@t{0.0000}"), ("flux", "@f{0.000000}")]))
    _side_legend(fig, items)
    return fig


#: Refetch the visible window of each downsampled segment 300 ms after the last zoom or pan; restore
#: the overview's points for segments wholly in view. A newer window wins over a late answer.
_ZOOM_JS = """
const state = (window.__gaiaZoom = window.__gaiaZoom || {generation: 0, timer: null, overview: {}});
clearTimeout(state.timer);
state.timer = setTimeout(() => {
  const lo = xr.start, hi = xr.end;
  if (!(hi > lo)) return;
  const generation = ++state.generation;
  const visible = spans.map((s, i) => i).filter((i) => spans[i][1] >= lo && spans[i][0] <= hi);
  const each = Math.max(500, Math.floor(points / Math.max(visible.length, 1)));
  visible.forEach((i) => {
    const [good, bad] = [goods[i], bads[i]];
    if (!(good.id in state.overview)) state.overview[good.id] = [good.data, bad.data];
    if (lo <= spans[i][0] && hi >= spans[i][1]) {
      [good.data, bad.data] = state.overview[good.id];
      return;
    }
    const shift = offsets[i];
    fetch(`${urls[i]}?t_min=${lo - shift}&t_max=${hi - shift}&max_points=${each}`, {credentials: "same-origin"})
      .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
      .then((a) => {
        if (generation !== state.generation) return;
        const keep = (want) => a.time.map((t, j) => j).filter((j) => a.flagged[j] === want);
        const ok = keep(false), no = keep(true);
        good.data = {t: ok.map((j) => a.time[j] + shift), f: ok.map((j) => a.flux[j]), s: ok.map(() => labels[i])};
        bad.data = {t: no.map((j) => a.time[j] + shift), f: no.map((j) => a.flux[j])};
      })
      .catch((status) => console.warn("light-curve window not fetched", urls[i], status));
  });
}, 300);
"""


def _fetch_zoomed_window(fig, zoomable: list[tuple[Segment, ColumnDataSource, ColumnDataSource]], *, points: int) -> None:  # noqa: ANN001
    """Wire the x range to refetch each zoomable segment's visible window at full resolution."""
    callback = CustomJS(
        args={
            "xr": fig.x_range,
            "points": int(points),
            "urls": [segment.series_url for segment, _, _ in zoomable],
            "labels": [segment.label for segment, _, _ in zoomable],
            "offsets": [float(segment.time_offset) for segment, _, _ in zoomable],
            "spans": [[float(segment.time.min()), float(segment.time.max())] for segment, _, _ in zoomable],
            "goods": [good for _, good, _ in zoomable],
            "bads": [bad for _, _, bad in zoomable],
        },
        code=_ZOOM_JS,
    )
    fig.x_range.js_on_change("start", callback)
    fig.x_range.js_on_change("end", callback)


def centroid_figure(
    segments: Sequence[CentroidSegment],
    *,
    x_range,  # noqa: ANN001 - the light curve's Range1d/DataRange1d: shared zoom and pan
    time_label: str,
    transit_times: Sequence[tuple[str, np.ndarray]] = (),
    height: int = 220,
):
    """Centroid shift in column and row against time, each segment about its own median (pixels).

    Drawn under the light curve on the same ``x_range``, with the same transit marks: a shift
    that coincides with the dips means the signal comes from a neighbouring star.
    """
    fig = figure(
        title="Flux-weighted centroid (MOM_CENTR1/2) minus each segment's median",
        height=height,
        sizing_mode="stretch_width",
        tools=TOOLS,
        active_scroll="wheel_zoom",
        x_range=x_range,
        x_axis_label=time_label,
        y_axis_label="shift (pixels)",
        output_backend="canvas",
        name="centroid",
        **STACKED_BORDERS,
    )
    columns, rows = [], []
    for segment in segments:
        if segment.time.size == 0:
            continue
        source = ColumnDataSource({
            "t": segment.time, "c": segment.column - np.nanmedian(segment.column),
            "r": segment.row - np.nanmedian(segment.row), "s": [segment.label] * segment.time.size,
        })
        columns.append(fig.scatter("t", "c", source=source, size=2, color="#1f77b4"))
        rows.append(fig.scatter("t", "r", source=source, size=2, color="#d62728"))
    items = []
    if columns:
        items += [LegendItem(label="column", renderers=columns), LegendItem(label="row", renderers=rows)]
    items += _transit_marks(fig, transit_times)
    fig.add_tools(HoverTool(
        renderers=columns + rows,
        tooltips=[("", "@s"), ("time", "@t{0.0000}"), ("column", "@c{0.0000} px"), ("row", "@r{0.0000} px")],
    ))
    _side_legend(fig, items)
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
    if data.size == 0:
        return binned_histogram_figure([], [], title=title, x_label=x_label, log_x=log_x)
    if log_x:
        edges = np.logspace(np.log10(data.min()), np.log10(data.max()) + 1e-9, bins + 1)
    else:
        edges = np.linspace(data.min(), data.max() + 1e-9, bins + 1)
    counts, edges = np.histogram(data, bins=edges)
    return binned_histogram_figure(edges, counts, title=title, x_label=x_label, log_x=log_x)


def binned_histogram_figure(edges: Sequence[float], counts: Sequence[int], *, title: str, x_label: str,
                            log_x: bool = False):
    """A histogram already binned (``len(edges) == len(counts) + 1``), e.g. counted by the database."""
    fig = figure(
        title=title, height=260, sizing_mode="stretch_width", tools=TOOLS, x_axis_label=x_label,
        y_axis_label="count", x_axis_type="log" if log_x else "linear", output_backend="canvas",
    )
    if len(counts) == 0:
        return fig
    edges = np.asarray(edges, dtype=float)
    fig.quad(top=list(counts), bottom=0, left=edges[:-1], right=edges[1:], fill_color="#1f77b4", line_color="white")
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
