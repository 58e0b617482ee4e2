"""The target page's GALEX section: eclipses covering the target, and their light curves next to
the Kepler/TESS light curve on one BJD axis."""

from __future__ import annotations

import numpy as np
from bokeh.embed import components
from django.http import HttpRequest
from django.template.loader import render_to_string

from apps.catalog.models import TIME_OFFSET_BJD
from apps.catalog.selectors import lightcurve_list
from apps.core.errors import NotFound
from apps.galex import selectors
from apps.lightcurves.selectors import lightcurve_series
from apps.plots.galex import cross_mission_figure

POINTS_PER_SEGMENT = 1500


def _median_scaled(values: np.ndarray, errors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    finite = values[np.isfinite(values)]
    median = float(np.median(finite)) if finite.size else 0.0
    if not median:
        return values, errors
    return values / median, errors / median


def target_panel(request: HttpRequest, target) -> dict | None:  # noqa: ANN001 - catalog.Target
    links = list(selectors.target_eclipses(target_id=target.pk))
    if not links:
        return None
    curves, parts = [], []
    offset = TIME_OFFSET_BJD.get(target.time_system)
    for lc in lightcurve_list(target_id=target.pk) if offset is not None else []:
        try:
            series = lightcurve_series(lightcurve=lc, max_points=POINTS_PER_SEGMENT)
        except NotFound:
            continue
        good = ~series.flagged
        parts.append((series.time[good] + offset, series.flux[good], series.flux_err[good]))
    if parts:  # every quarter or sector as one curve (each already divided by its median)
        mission = target.get_mission_display()
        curves.append({"mission": mission, "label": f"{mission} ({len(parts)} light curves)",
                       "bjd": np.concatenate([p[0] for p in parts]), "flux": np.concatenate([p[1] for p in parts]),
                       "err": np.concatenate([p[2] for p in parts])})  # fmt: skip
    galex = selectors.target_galex_curves(target=target)
    for curve in galex:
        flux, err = _median_scaled(curve.cps, curve.cps_err)
        curves.append({"mission": "GALEX", "label": f"GALEX {curve.eclipse} ({curve.source})",
                       "bjd": curve.bjd, "flux": flux, "err": err})  # fmt: skip
    script = div = ""
    if galex:
        script, div = components(cross_mission_figure(curves, title=f"{target} — Kepler/TESS and GALEX"))
    html = render_to_string(
        "galex/target_panel.html",
        {"links": links, "curves": galex, "plot_script": script, "plot_div": div},
        request=request,
    )
    return {"title": "GALEX eclipses covering this target", "html": html, "bokeh": bool(div)}
