"""Pure figure builders for the vetting page: arrays and numbers in, Bokeh models out.

Nothing a person typed reaches these figures: titles, legends and tooltips carry numbers and
fixed words only, so no user text can end up inside Bokeh's HTML.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from bokeh.layouts import gridplot
from bokeh.models import ColumnDataSource, CustomJS, DataRange1d, HoverTool, Range1d, Title
from bokeh.plotting import figure

from apps.plots.figures import TOOLS

ODD_COLOR, EVEN_COLOR = "#1f77b4", "#ff7f0e"
GAPPY_FILL = "#fdecea"
MISSING_DATA = "missing data"

#: Re-folds the flattened series into the global and local views in the browser. ``flat`` holds
#: ``time`` and ``flux``; ``params`` one row of ``period`` (d), ``epoch`` and ``duration`` (h);
#: ``targets`` maps a view to its source and geometry (num_bins, bin_width, half_width in
#: durations or null for a global view, x_scale: 1 for days, 24 for hours). Bins are the Python
#: pipeline's (``bin_median``): overlapping windows whose left edges step evenly from the view's
#: start; each holds the median (or mean) of its points, empty bins the median of all; the view is
#: then shifted to median 0 and scaled to minimum -1.
REFOLD_JS = """
const t = flat.data.time, f = flat.data.flux, n = t.length;
const P = Number(params.data.period[0]), E = Number(params.data.epoch[0]);
const D = Number(params.data.duration[0]) / 24;
if (!(n > 1 && P > 0 && D > 0 && D < P && Number.isFinite(E))) { return; }
const phase = new Float64Array(n);
const half = P / 2, shift = half - E;
for (let i = 0; i < n; i++) {
  let m = (t[i] + shift) % P;
  if (m < 0) m += P;
  phase[i] = m - half;
}
const order = Array.from(phase.keys()).sort((a, b) => phase[a] - phase[b]);
const ph = Float64Array.from(order, (i) => phase[i]);
const fl = Float64Array.from(order, (i) => f[i]);
function median(values) {
  const s = Float64Array.from(values).sort();
  const k = s.length >> 1;
  return s.length % 2 ? s[k] : 0.5 * (s[k - 1] + s[k]);
}
function mean(values) {
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}
const aggregate = how === "mean" ? mean : median;
const fill = median(fl);
for (const [name, target] of Object.entries(targets)) {
  const g = target.geometry;
  let width, lo, hi;
  if (g.half_width === null || g.half_width === undefined) {
    width = P * g.bin_width; lo = -half; hi = half;
  } else {
    width = D * g.bin_width; lo = Math.max(-half, -g.half_width * D); hi = Math.min(half, g.half_width * D);
  }
  const nb = g.num_bins, spacing = (hi - lo - width) / (nb - 1);
  const x = new Array(nb), y = new Array(nb);
  let j0 = 0, j1 = 0;
  for (let k = 0; k < nb; k++) {
    const a = lo + k * spacing, b = a + width;
    while (j0 < n && ph[j0] < a) j0++;
    if (j1 < j0) j1 = j0;
    while (j1 < n && ph[j1] < b) j1++;
    x[k] = (a + width / 2) * target.x_scale;
    y[k] = j1 > j0 ? aggregate(fl.subarray(j0, j1)) : fill;
  }
  const center = median(y);
  let low = Infinity;
  for (const v of y) low = Math.min(low, v - center);
  const scale = Math.abs(low) > 0 ? Math.abs(low) : 1;
  target.source.data = {x: x, y: y.map((v) => (v - center) / scale)};
}
"""


def _finite(value: float | None) -> bool:
    return value is not None and bool(np.isfinite(value))


def depth_text(depth: float | None) -> str:
    """A depth (fraction of the star's flux) for a title: ppm below 1 %, percent above."""
    if not _finite(depth):
        return "—"
    return f"{100 * depth:.2f} %" if abs(depth) >= 0.01 else f"{1e6 * depth:.0f} ppm"


def number_text(value: float | None, fmt: str = ".1f") -> str:
    return format(value, fmt) if _finite(value) else "—"


def view_source(x: np.ndarray, y: np.ndarray, *, name: str) -> ColumnDataSource:
    """A named source of one binned view (x: phase, y: normalised flux), found by the page's JS."""
    return ColumnDataSource({"x": np.asarray(x, float), "y": np.asarray(y, float)}, name=name)


def series_source(time: np.ndarray, flux: np.ndarray, *, name: str) -> ColumnDataSource:
    """A named source of a light curve (``time``, ``flux``), shared by its plot and the re-fold."""
    return ColumnDataSource({"time": np.asarray(time, float), "flux": np.asarray(flux, float)}, name=name)


def _phase_figure(*, title: str, x_label: str, y_label: str, name: str, height: int, x_range=None, y_range=None):  # noqa: ANN001
    kwargs = {"x_range": x_range} if x_range is not None else {}
    if y_range is not None:
        kwargs["y_range"] = y_range
    return figure(
        title=title, name=name, height=height, sizing_mode="stretch_width", tools=TOOLS,
        active_scroll="wheel_zoom", x_axis_label=x_label, y_axis_label=y_label, output_backend="canvas", **kwargs,
    )


def phase_view_figure(
    source: ColumnDataSource,
    *,
    title: str,
    x_label: str,
    name: str,
    y_label: str = "normalised flux",
    height: int = 250,
    x_range=None,  # noqa: ANN001 - a Bokeh range to link with another figure
    y_range=None,  # noqa: ANN001
):
    """One binned view (global, local, centroid) against phase, drawn from ``source`` (x, y)."""
    fig = _phase_figure(title=title, x_label=x_label, y_label=y_label, name=name, height=height, x_range=x_range, y_range=y_range)
    fig.line("x", "y", source=source, color="#777777")
    fig.scatter("x", "y", source=source, size=3, color="#1f77b4")
    fig.add_tools(HoverTool(tooltips=[("phase", "@x{0.000}"), ("value", "@y{0.0000}")]))
    return fig


def odd_even_figure(
    x: np.ndarray,
    odd: np.ndarray,
    even: np.ndarray,
    *,
    odd_depth: float | None,
    even_depth: float | None,
    sigma: float | None,
    x_label: str,
    height: int = 250,
    x_range=None,  # noqa: ANN001
    y_range=None,  # noqa: ANN001
):
    """Odd and even transits (local views) overlaid on one axis, with their depths and the
    significance of their difference in the title and legend."""
    fig = _phase_figure(
        title=f"Odd and even transits: depths differ by {number_text(sigma)} σ", x_label=x_label,
        y_label="normalised flux", name="odd-even", height=height, x_range=x_range, y_range=y_range,
    )
    # Even is drawn over odd, half transparent and with other markers, so equal depths stay visible.
    for values, color, label, depth, marker, alpha in (
        (odd, ODD_COLOR, "odd", odd_depth, "circle", 1.0), (even, EVEN_COLOR, "even", even_depth, "triangle", 0.6)
    ):
        source = ColumnDataSource({"x": np.asarray(x, float), "y": np.asarray(values, float)})
        legend = f"{label}: {depth_text(depth)}"
        fig.line("x", "y", source=source, color=color, line_alpha=alpha, legend_label=legend)
        fig.scatter("x", "y", source=source, size=4, marker=marker, color=color, alpha=alpha, legend_label=legend)
    fig.legend.location = "bottom_right"
    fig.legend.label_text_font_size = "8pt"
    fig.add_tools(HoverTool(tooltips=[("hours", "@x{0.00}"), ("value", "@y{0.0000}")]))
    return fig


def secondary_figure(
    x: np.ndarray,
    y: np.ndarray,
    *,
    offset_days: float | None,
    period: float,
    depth: float | None,
    sigma: float | None,
    x_label: str,
    height: int = 250,
    y_range=None,  # noqa: ANN001
):
    """The secondary eclipse's local view, titled with its phase, depth and significance."""
    phase = (offset_days / period) % 1.0 if _finite(offset_days) and period > 0 else None
    title = (
        f"Secondary eclipse at phase {number_text(phase, '.3f')} ({number_text(offset_days, '+.3f')} d): "
        f"depth {depth_text(depth)}, {number_text(sigma)} σ"
    )
    source = ColumnDataSource({"x": np.asarray(x, float), "y": np.asarray(y, float)})
    fig = _phase_figure(title=title, x_label=x_label, y_label="normalised flux", name="secondary", height=height, y_range=y_range)
    fig.line("x", "y", source=source, color="#777777")
    fig.scatter("x", "y", source=source, size=3, color="#2ca02c")
    fig.add_tools(HoverTool(tooltips=[("hours", "@x{0.00}"), ("value", "@y{0.0000}")]))
    return fig


def flattened_figure(
    source: ColumnDataSource,
    *,
    transit_times: np.ndarray,
    duration_days: float,
    time_label: str,
    height: int = 240,
):
    """The flattened light curve (``time``, ``flux`` of ``source``) with this TCE's observed
    transits shaded (one duration wide)."""
    fig = figure(
        title="Flattened light curve (shaded: this TCE's transits)", name="flattened", height=height,
        sizing_mode="stretch_width", tools=TOOLS, active_scroll="wheel_zoom", x_axis_label=time_label,
        y_axis_label="flux / trend", output_backend="canvas",
    )
    times = np.asarray(transit_times, float)
    if times.size:
        fig.vstrip(x0=times - duration_days / 2, x1=times + duration_days / 2, fill_color="#d62728", fill_alpha=0.18, line_alpha=0)
    fig.scatter("time", "flux", source=source, size=2, color="#1f77b4")
    fig.add_tools(HoverTool(tooltips=[("time", "@time{0.0000}"), ("flux", "@flux{0.000000}")]))
    return fig


def transit_gallery(cutouts: Sequence[Mapping], *, ncols: int = 6, width: int = 200, height: int = 150):
    """Small multiples: one cut-out per transit (x in hours from mid-transit), odd blue and even
    orange, each titled with its number, depth and SNR; transits with missing data are shaded
    and carry a second title, "missing data". None without cut-outs. Figures are named ``cutout-<transit number>``."""
    if not cutouts:
        return None
    y_range = DataRange1d()
    span = max((float(np.max(np.abs(c["dt"]))) for c in cutouts if len(c["dt"])), default=1.0) * 24.0
    x_range = Range1d(-span, span)
    figures = []
    for cut in cutouts:
        odd = cut["number"] % 2 == 0  # the first transit (number 0) is odd, as in the pipeline
        title = f"#{cut['number']} {'odd' if odd else 'even'} · {depth_text(cut['depth'])} · SNR {number_text(cut['snr'])}"
        fig = figure(
            title=title, name=f"cutout-{cut['number']}", width=width, height=height, toolbar_location=None,
            tools="", x_range=x_range, y_range=y_range, output_backend="canvas",
            background_fill_color=GAPPY_FILL if cut["gappy"] else "#ffffff",
        )
        fig.title.text_font_size = "8pt"
        if cut["gappy"]:
            fig.add_layout(Title(text=MISSING_DATA, text_color="#b71c1c", text_font_size="8pt"), "above")
        fig.axis.major_label_text_font_size = "7pt"
        fig.scatter(np.asarray(cut["dt"], float) * 24.0, np.asarray(cut["flux"], float), size=2,
                    color=ODD_COLOR if odd else EVEN_COLOR)
        figures.append(fig)
    return gridplot(figures, ncols=ncols, toolbar_location=None)


def periodogram_figure(period: np.ndarray, power: np.ndarray, *, marks: Sequence[float] = (), height: int = 220):
    """A BLS periodogram (power against period, log axis) with the TCE's period marked."""
    fig = figure(
        title="BLS periodogram", name="periodogram", height=height, sizing_mode="stretch_width", tools=TOOLS,
        x_axis_type="log", x_axis_label="period (d)", y_axis_label="power", output_backend="canvas",
    )
    fig.line(np.asarray(period, float), np.asarray(power, float), color="#444444")
    if len(marks):
        fig.vspan(x=[float(m) for m in marks], line_color="#d62728", line_dash="dashed")
    return fig


def refold_params_source(*, period: float, epoch: float, duration_hours: float) -> ColumnDataSource:
    """The one-row source the page's period/epoch/duration inputs write to; changing its data
    re-folds (``attach_refold``)."""
    return ColumnDataSource(
        {"period": [float(period)], "epoch": [float(epoch)], "duration": [float(duration_hours)]}, name="refold-params"
    )


def attach_refold(
    params: ColumnDataSource,
    flat: ColumnDataSource,
    targets: Mapping[str, tuple[ColumnDataSource, Mapping, float]],
    *,
    how: str = "median",
) -> CustomJS:
    """Re-fold ``flat`` into each target view whenever ``params`` changes.

    ``targets`` maps a view name to (its source, its geometry: num_bins, bin_width, half_width,
    its x scale: 1 for days, 24 for hours).
    """
    if how not in ("median", "mean"):
        raise ValueError("how must be 'median' or 'mean'")
    callback = CustomJS(
        args={
            "flat": flat,
            "params": params,
            "how": how,
            "targets": {
                name: {"source": source, "geometry": dict(geometry), "x_scale": float(scale)}
                for name, (source, geometry, scale) in targets.items()
            },
        },
        code=REFOLD_JS,
    )
    params.js_on_change("data", callback)
    return callback
