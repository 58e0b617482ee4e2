"""Sections the light-curve app adds to the target page (flattened series) and TCE page (views)."""

from __future__ import annotations

import numpy as np
from bokeh.embed import components
from django.http import HttpRequest
from django.template.loader import render_to_string

from apps.catalog.models import TCE, Target
from apps.lightcurves.selectors import VIEW_PRESETS, flattened_latest, tce_views_latest, view_axes
from apps.plots.downsample import minmax_downsample
from apps.plots.figures import per_transit_figure, trend_figure, view_figure

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
