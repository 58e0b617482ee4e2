"""Sections the light-curve app adds to the target page (light curve, flattened series) and TCE page
(measured depth and SNR, views)."""

from __future__ import annotations

import numpy as np
from bokeh.embed import components
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse

from apps.catalog.models import TCE, TIME_OFFSET_BJD, Target, clock_shift
from apps.catalog.selectors import lightcurve_list, same_star_targets, tce_list
from apps.core.errors import NotFound
from apps.lightcurves.selectors import (
    VIEW_PRESETS,
    centroid_series,
    flattened_latest,
    lightcurve_series,
    tce_measures,
    tce_views_latest,
    transit_times,
    view_axes,
)
from apps.plots.downsample import minmax_downsample
from apps.plots.figures import (
    MAX_TRANSIT_SETS,
    CentroidSegment,
    Segment,
    centroid_figure,
    lightcurve_figure,
    per_transit_figure,
    trend_figure,
    view_figure,
)

VIEW_TITLES = {
    "global_view": "Global view (whole period)",
    "local_view": "Local view (±4 durations)",
    "odd_view": "Odd transits (local)",
    "even_view": "Even transits (local)",
    "secondary_view": "Secondary eclipse (local, at the secondary's phase)",
    "centroid_local_view": "Centroid shift, local (pixels)",
    "centroid_global_view": "Centroid shift, global (pixels)",
}
DIAGNOSTIC_LABELS = [
    ("n_transits", "transits observed", ""),
    ("depth", "depth (fraction)", ""),
    ("snr", "SNR", ""),
    ("odd_depth", "odd depth", ""),
    ("even_depth", "even depth", ""),
    ("odd_even_sigma", "odd/even difference", "σ"),
    ("secondary_phase", "secondary offset", "d"),
    ("secondary_depth", "secondary depth", ""),
    ("secondary_sigma", "secondary significance", "σ"),
    ("centroid_offset_col", "centroid offset, column", "px"),
    ("centroid_offset_row", "centroid offset, row", "px"),
    ("centroid_offset_sigma", "centroid offset significance", "σ"),
    ("bkspace", "spline knot spacing", "d"),
    ("n_points", "cadences used", ""),
]
PLOT_POINTS = 6000
PLOT_POINTS_PER_SEGMENT = 4000
#: The whole light-curve plot's points, shared by its segments: what keeps a 17-quarter target's page
#: under the 1.5 MB budget (each point travels base64-encoded in the page, flux and centroids alike).
#: Zooming or panning refetches the visible window of each quarter/sector at full resolution
#: (``/api/lightcurves/<id>/series?t_min=&t_max=``), this many points shared by the visible ones.
PLOT_POINTS_TOTAL = 16_000
CENTROID_POINTS_TOTAL = 8_000
MIN_POINTS_PER_SEGMENT = 500


def _points_per_segment(total: int, n_segments: int) -> int:
    return min(PLOT_POINTS_PER_SEGMENT, max(MIN_POINTS_PER_SEGMENT, total // max(n_segments, 1)))


def _segment_label(curve, target: Target) -> str:  # noqa: ANN001
    """"Q3", "S46"; another mission's curve of the same star names its mission ("K2 C10")."""
    label = f"{curve.season_label[0].upper()}{curve.quarter_or_sector}"
    return label if curve.mission == target.mission else f"{curve.get_mission_display()} {label}"


def _lightcurve_plot(target: Target, curves: list) -> tuple[str, dict[str, str]] | None:
    """Script and divs (``lightcurve``, ``centroid`` when there are centroids) of the target's light
    curve; ``curves`` are (light curve, days to add to reach this target's clock) pairs."""
    if not curves:
        return None
    segments, centroids = [], []
    t_min, t_max = np.inf, -np.inf
    flux_points = _points_per_segment(PLOT_POINTS_TOTAL, len(curves))
    centroid_points = _points_per_segment(CENTROID_POINTS_TOTAL, len(curves))
    for curve, shift in curves:
        try:
            series = lightcurve_series(lightcurve=curve, max_points=flux_points)
            centroid = centroid_series(lightcurve=curve, max_points=centroid_points)
        except NotFound:
            continue
        if series.time.size == 0:
            continue
        time = series.time + shift
        t_min, t_max = min(t_min, time.min()), max(t_max, time.max())
        label = _segment_label(curve, target)
        segments.append(Segment(
            label, time, series.flux, series.flagged,
            series_url=reverse("api-1:lightcurve-series", kwargs={"lightcurve_id": curve.pk}),
            downsampled=series.downsampled, time_offset=shift,
        ))
        centroids.append(CentroidSegment(label, centroid.time + shift, centroid.column, centroid.row))
    if not segments:
        return None
    markers = [
        (tce.label, transit_times(period=tce.period_days, epoch=tce.epoch, t_min=t_min, t_max=t_max, limit=400))
        for tce in tce_list(target_id=target.pk)
        if tce.epoch_system == target.time_system
    ][:MAX_TRANSIT_SETS]
    time_label = f"time ({target.time_system})"
    words = f"{len(segments)} {curves[0][0].season_label}{'s' if len(segments) > 1 else ''}"
    fig = lightcurve_figure(
        segments, time_label=time_label, transit_times=markers,
        title=f"{target} — normalised PDCSAP flux", zoom_points=PLOT_POINTS_TOTAL,
        segments_label=f"{segments[0].label}–{segments[-1].label} ({words})" if len(segments) > 1 else segments[0].label,
    )
    figures = {"lightcurve": fig}
    if any(c.time.size for c in centroids):
        figures["centroid"] = centroid_figure(centroids, x_range=fig.x_range, time_label=time_label, transit_times=markers)
    return components(figures)


def _same_star_curves(target: Target) -> list[tuple[Target, list, float]]:
    """The same star's targets in other missions (matched by position), each with its light
    curves and the days that put its clock on this target's (BKJD to BTJD: -2167)."""
    if target.time_system not in TIME_OFFSET_BJD:  # a GALEX field has no light curves to join
        return []
    return [
        (other, list(lightcurve_list(target_id=other.pk)), clock_shift(other.time_system, target.time_system))
        for other in same_star_targets(target=target)
    ]


def target_lightcurve_panel(request: HttpRequest, target: Target) -> dict:
    """The target page's light curve: every quarter/sector with TCE transit marks, centroids below,
    and the same star's light curves from the other missions on this target's clock."""
    curves = list(lightcurve_list(target_id=target.pk))
    others = _same_star_curves(target)
    drawn = [(c, 0.0) for c in curves] + [(c, shift) for _, theirs, shift in others for c in theirs]
    plot = _lightcurve_plot(target, drawn)
    script, divs = plot if plot else ("", {})
    html = render_to_string(
        "lightcurves/target_lightcurve.html",
        {"target": target, "lightcurves": curves, "same_star": others, "plot_script": script,
         "plot_div": divs.get("lightcurve", ""), "centroid_div": divs.get("centroid", ""), "user": request.user},
        request=request,
    )
    return {"title": "Light curve", "html": html, "bokeh": plot is not None}


def tce_facts(request: HttpRequest, tce: TCE) -> dict:
    """Depth, SNR and transit count for the TCE page's facts: measured when processed, else the catalogue's."""
    html = render_to_string("lightcurves/tce_facts.html", {"measures": tce_measures(tce=tce)}, request=request)
    return {"title": "measures", "html": html}


def target_panel(request: HttpRequest, target: Target) -> dict | None:
    latest = flattened_latest(target_id=target.pk)
    script = div = ""
    meta = None
    if latest is not None:
        data, artifact = latest
        keep = minmax_downsample(data["time"], data["flux"], PLOT_POINTS)
        fig = trend_figure(
            data["time"][keep], data["raw"][keep], data["trend"][keep], data["flux"][keep],
            time_label=f"time ({target.time_system})",
        )
        script, div = components(fig)
        meta = artifact
    html = render_to_string(
        "lightcurves/target_panel.html",
        {"target": target, "plot_script": script, "plot_div": div, "artifact": meta, "user": request.user},
        request=request,
    )
    return {"title": "Processing: detrended light curve", "html": html, "bokeh": bool(div)}


def diagnostic_rows(diagnostics: dict) -> list[tuple[str, str]]:
    rows = []
    for key, label, unit in DIAGNOSTIC_LABELS:
        value = diagnostics.get(key)
        if value is None:
            continue
        if isinstance(value, float):
            text = f"{value:.4g}"
            err = diagnostics.get(f"{key}_err")
            if isinstance(err, float):
                text += f" ± {err:.2g}"
        else:
            text = str(value)
        rows.append((label, f"{text} {unit}".strip()))
    return rows


def tce_panel(request: HttpRequest, tce: TCE) -> dict | None:
    sections = []
    script_parts = []
    for preset in VIEW_PRESETS:
        latest = tce_views_latest(tce_id=tce.pk, preset=preset)
        if latest is None:
            continue
        views, artifact = latest
        axes = view_axes(preset=preset, period=tce.period_days, duration_hours=tce.duration_hours)
        figures = {}
        for name, values in views.items():
            axis = axes.get(name)
            if axis is not None and axis.x.size == values.size:
                figures[name] = view_figure(values, title=VIEW_TITLES.get(name, name), x=axis.x, x_label=axis.label)
            else:
                figures[name] = view_figure(values, title=VIEW_TITLES.get(name, name))
        diagnostics = artifact.meta.get("diagnostics", {})
        times = np.asarray(diagnostics.get("transit_time") or [], dtype=float)
        depths = np.asarray(diagnostics.get("transit_depth") or [], dtype=float)
        errors = np.asarray(diagnostics.get("transit_depth_err") or [], dtype=float)
        if times.size:
            figures["per_transit"] = per_transit_figure(times, depths, errors, time_label=tce.epoch_system)
        script, divs = components(figures)
        script_parts.append(script)
        sections.append(
            {"preset": preset, "divs": divs, "artifact": artifact, "rows": diagnostic_rows(diagnostics)}
        )
    html = render_to_string(
        "lightcurves/tce_panel.html",
        {"tce": tce, "sections": sections, "scripts": script_parts, "user": request.user},
        request=request,
    )
    return {"title": "Views and diagnostics", "html": html, "bokeh": bool(sections)}
