"""Pure figure builders for the vetting page: arrays and numbers in, Bokeh models out.

Nothing a person typed reaches these figures: titles, legends and tooltips carry numbers and
fixed words only, so no user text can end up inside Bokeh's HTML.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from bokeh.models import ColumnDataSource, CustomJS, HoverTool, Range1d
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
    """Small multiples in one figure: a cell per transit, x in hours from mid-transit (every cell
    spans the same hours, its middle dashed), y on one flux scale for all, odd points blue and even
    orange, each cell titled with its number, depth and SNR; cells of transits with missing data
    are shaded and say "missing data". One figure, not one per transit: building and serialising
    a Bokeh figure per cut-out cost ~70 ms each (4 s of a 60-transit page). Renderers are named
    ``cutout-cells``, ``cutout-points``, ``cutout-titles`` (a row per transit with its ``number``)
    and ``cutout-missing``. None without cut-outs."""
    if not cutouts:
        return None
    grid = _GalleryGrid.of(cutouts, ncols)
    fig = figure(
        name="transit-gallery", width=grid.ncols * width, height=grid.nrows * height, toolbar_location=None,
        tools="", x_range=Range1d(*grid.x_bounds()), y_range=Range1d(*grid.y_bounds()), output_backend="canvas",
    )
    fig.axis.visible = False
    fig.grid.visible = False
    cells = ColumnDataSource(grid.cells(cutouts))
    fig.quad(left="left", right="right", bottom="bottom", top="top", fill_color="fill", line_color="#cccccc",
             source=cells, name="cutout-cells")  # fmt: skip
    fig.segment(x0="middle", x1="middle", y0="bottom", y1="top", line_color="#999999", line_dash="dashed", source=cells)
    points = fig.scatter("x", "y", color="color", size=2, source=ColumnDataSource(grid.points(cutouts)), name="cutout-points")
    fig.add_tools(HoverTool(renderers=[points], tooltips=[("transit", "#@transit"), ("hours", "@hours{0.00}"), ("flux", "@flux{0.000000}")]))
    fig.text("x", "y", "text", source=ColumnDataSource(grid.titles(cutouts)), name="cutout-titles",
             text_font_size="8pt", text_align="center", text_baseline="bottom")  # fmt: skip
    fig.text("x", "y", "text", source=ColumnDataSource(grid.missing(cutouts)), name="cutout-missing",
             text_font_size="8pt", text_align="center", text_baseline="bottom", text_color="#b71c1c")  # fmt: skip
    return fig


def _is_odd(number: int) -> bool:
    """The first transit (number 0) is odd, as in the pipeline."""
    return number % 2 == 0


@dataclass(frozen=True)
class _GalleryGrid:
    """Where each transit's cell sits in the gallery's one coordinate frame: cell ``i`` is column
    ``i % ncols``, row ``i // ncols``; x is hours from mid-transit plus the column's offset, y the
    flux above the lowest of all cut-outs minus the row's offset (so depths compare across cells)."""

    ncols: int
    nrows: int
    span_hours: float
    low: float
    depth_range: float

    @classmethod
    def of(cls, cutouts: Sequence[Mapping], ncols: int) -> _GalleryGrid:
        span = max((float(np.max(np.abs(c["dt"]))) for c in cutouts if len(c["dt"])), default=1.0) * 24.0
        flux = np.concatenate([np.asarray(c["flux"], float) for c in cutouts])
        flux = flux[np.isfinite(flux)]
        low, high = (float(flux.min()), float(flux.max())) if flux.size else (0.0, 1.0)
        ncols = max(1, min(ncols, len(cutouts)))
        return cls(ncols, -(-len(cutouts) // ncols), max(span, 1e-3), low, max(high - low, 1e-9))

    @property
    def cell_width(self) -> float:
        return 2.2 * self.span_hours

    @property
    def cell_height(self) -> float:
        return 1.35 * self.depth_range

    def origin(self, i: int) -> tuple[float, float]:
        """(x of mid-transit, y of the lowest flux) of cell ``i``."""
        return (i % self.ncols) * self.cell_width, -(i // self.ncols) * self.cell_height

    def x_bounds(self) -> tuple[float, float]:
        return -self.cell_width / 2, (self.ncols - 0.5) * self.cell_width

    def y_bounds(self) -> tuple[float, float]:
        return -(self.nrows - 1) * self.cell_height - 0.1 * self.depth_range, 1.25 * self.depth_range

    def cells(self, cutouts: Sequence[Mapping]) -> dict[str, list]:
        origins = [self.origin(i) for i in range(len(cutouts))]
        pad = 0.08 * self.depth_range
        return {"middle": [x for x, _ in origins], "left": [x - self.cell_width / 2.2 for x, _ in origins],
                "right": [x + self.cell_width / 2.2 for x, _ in origins], "bottom": [y - pad for _, y in origins],
                "top": [y + self.depth_range + pad for _, y in origins],
                "fill": [GAPPY_FILL if c["gappy"] else "#ffffff" for c in cutouts]}  # fmt: skip

    def points(self, cutouts: Sequence[Mapping]) -> dict[str, np.ndarray]:
        columns: dict[str, list[np.ndarray]] = {"x": [], "y": [], "hours": [], "flux": [], "transit": [], "color": []}
        for i, cut in enumerate(cutouts):
            x0, y0 = self.origin(i)
            hours, flux = np.asarray(cut["dt"], float) * 24.0, np.asarray(cut["flux"], float)
            odd = _is_odd(cut["number"])
            for name, values in (("x", hours + x0), ("y", flux - self.low + y0), ("hours", hours), ("flux", flux),
                                 ("transit", np.full(hours.size, int(cut["number"]))),
                                 ("color", np.full(hours.size, ODD_COLOR if odd else EVEN_COLOR))):  # fmt: skip
                columns[name].append(values)
        return {name: np.concatenate(parts) for name, parts in columns.items()}

    def titles(self, cutouts: Sequence[Mapping]) -> dict[str, list]:
        origins = [self.origin(i) for i in range(len(cutouts))]
        text = [f"#{c['number']} {'odd' if _is_odd(c['number']) else 'even'} · {depth_text(c['depth'])} · "
                f"SNR {number_text(c['snr'])}" for c in cutouts]  # fmt: skip
        return {"x": [x for x, _ in origins], "y": [y + 1.1 * self.depth_range for _, y in origins], "text": text,
                "number": [int(c["number"]) for c in cutouts]}  # fmt: skip

    def missing(self, cutouts: Sequence[Mapping]) -> dict[str, list]:
        gappy = [(i, c) for i, c in enumerate(cutouts) if c["gappy"]]
        return {"x": [self.origin(i)[0] for i, _ in gappy], "y": [self.origin(i)[1] for i, _ in gappy],
                "text": [MISSING_DATA] * len(gappy), "number": [int(c["number"]) for _, c in gappy]}  # fmt: skip


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
