"""Pages for the dashboard, targets and TCEs. Views fetch through selectors and embed pure plots."""

from __future__ import annotations

import numpy as np
from bokeh.embed import components
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.catalog import selectors
from apps.catalog.forms import TargetFilterForm, TCEFilterForm
from apps.catalog.models import TCE, Disposition, Mission
from apps.core.errors import GaiaError, NotFound
from apps.core.http import not_found
from apps.jobs.selectors import job_list
from apps.lightcurves.selectors import lightcurve_series, transit_times
from apps.plots.figures import Segment, bar_figure, histogram_figure, lightcurve_figure

PAGE_SIZE = 50
PLOT_POINTS_PER_SEGMENT = 4000


def _page(request: HttpRequest, queryset):
    paginator = Paginator(queryset, PAGE_SIZE)
    return paginator.get_page(request.GET.get("page"))


def home(request: HttpRequest) -> HttpResponse:
    counts = selectors.catalog_counts()
    counts["jobs"] = job_list().count()
    breakdown = selectors.disposition_breakdown()
    periods = np.fromiter(TCE.objects.values_list("period_days", flat=True), dtype=float)
    durations = np.fromiter(TCE.objects.values_list("duration_hours", flat=True), dtype=float)
    by_disposition: dict[str, int] = {}
    for row in breakdown:
        by_disposition[row["disposition"]] = by_disposition.get(row["disposition"], 0) + row["n"]
    figures = {
        "periods": histogram_figure(periods, title="TCE periods", x_label="period (d)", log_x=True),
        "durations": histogram_figure(durations, title="TCE durations", x_label="duration (h)", log_x=True),
        "dispositions": bar_figure(list(by_disposition), list(by_disposition.values()), title="Catalogue dispositions"),
    }
    script, divs = components(figures)
    context = {
        "counts": counts,
        "breakdown": breakdown,
        "dispositions": Disposition,
        "bokeh": True,
        "plot_script": script,
        "plots": divs,
        "recent_jobs": job_list()[:8],
    }
    return render(request, "catalog/home.html", context)


def target_list(request: HttpRequest) -> HttpResponse:
    form = TargetFilterForm(request.GET or None)
    error = None
    targets = selectors.target_list()
    if form.is_valid():
        try:
            targets = selectors.target_list(**form.cleaned_filters())
        except GaiaError as exc:
            error = exc.message
    context = {"form": form, "page": _page(request, targets), "error": error, "missions": Mission}
    return render(request, "catalog/target_list.html", context)


def _lightcurve_plot(target) -> tuple[str, str] | None:
    curves = list(selectors.lightcurve_list(target_id=target.pk))
    if not curves:
        return None
    segments = []
    t_min, t_max = np.inf, -np.inf
    for curve in curves:
        try:
            series = lightcurve_series(lightcurve=curve, max_points=PLOT_POINTS_PER_SEGMENT)
        except NotFound:
            continue
        if series.time.size == 0:
            continue
        t_min, t_max = min(t_min, series.time.min()), max(t_max, series.time.max())
        label = f"{curve.season_label[0].upper()}{curve.quarter_or_sector}"
        segments.append(Segment(label, series.time, series.flux, series.flagged))
    if not segments:
        return None
    markers = [
        (tce.label, transit_times(period=tce.period_days, epoch=tce.epoch, t_min=t_min, t_max=t_max, limit=400))
        for tce in selectors.tce_list(target_id=target.pk)
        if tce.epoch_system == target.time_system
    ]
    fig = lightcurve_figure(
        segments, time_label=f"time ({target.time_system})", transit_times=markers[:6],
        title=f"{target} — normalised PDCSAP flux",
    )
    return components(fig)


def target_detail(request: HttpRequest, target_id: int) -> HttpResponse:
    try:
        target = selectors.target_get(target_id=target_id)
    except NotFound as exc:
        return not_found(request, exc)
    plot = _lightcurve_plot(target)
    panels = target_panels(request, target)
    context = {
        "target": target,
        "tces": selectors.tce_list(target_id=target.pk),
        "lightcurves": selectors.lightcurve_list(target_id=target.pk),
        "jobs": job_list(target_id=target.pk)[:20],
        "links": external_links(target),
        "bokeh": plot is not None or any(p.get("bokeh") for p in panels),
        "plot_script": plot[0] if plot else "",
        "plot_div": plot[1] if plot else "",
        "panels": panels,
    }
    return render(request, "catalog/target_detail.html", context)


def external_links(target) -> list[tuple[str, str]]:
    links = []
    if target.mission == Mission.KEPLER:
        links.append(("MAST", f"https://archive.stsci.edu/kepler/data_search/search.php?kic_kepler_id={target.identifier}&action=Search"))
        links.append(("ExoFOP", f"https://exofop.ipac.caltech.edu/kepler/edit_target.php?id={target.identifier}"))
        links.append(("SIMBAD", f"https://simbad.cds.unistra.fr/simbad/sim-id?Ident=KIC+{target.identifier}"))
    elif target.mission == Mission.TESS:
        links.append(("MAST", f"https://mast.stsci.edu/portal/Mashup/Clients/Mast/Portal.html?searchQuery=TIC%20{target.identifier}"))
        links.append(("ExoFOP", f"https://exofop.ipac.caltech.edu/tess/target.php?id={target.identifier}"))
        links.append(("SIMBAD", f"https://simbad.cds.unistra.fr/simbad/sim-id?Ident=TIC+{target.identifier}"))
    elif target.mission == Mission.K2:
        links.append(("ExoFOP", f"https://exofop.ipac.caltech.edu/k2/edit_target.php?id={target.identifier}"))
    if target.ra is not None and target.dec is not None:
        links.append(("SIMBAD (cone)", f"https://simbad.cds.unistra.fr/simbad/sim-coo?Coord={target.ra}+{target.dec}&Radius=10&Radius.unit=arcsec"))
    return links


def target_panels(request: HttpRequest, target) -> list[dict]:
    """Extra sections other apps contribute to the target page (processing, archive, scores)."""
    from apps.core.panels import collect_panels

    return collect_panels("target", request=request, obj=target)


def tce_list(request: HttpRequest) -> HttpResponse:
    form = TCEFilterForm(request.GET or None)
    error = None
    tces = selectors.tce_list()
    if form.is_valid():
        try:
            tces = selectors.tce_list(**form.cleaned_filters())
        except GaiaError as exc:
            error = exc.message
    return render(request, "catalog/tce_list.html", {"form": form, "page": _page(request, tces), "error": error})


def tce_detail(request: HttpRequest, tce_id: int) -> HttpResponse:
    try:
        tce = selectors.tce_get(tce_id=tce_id)
    except NotFound as exc:
        return not_found(request, exc)
    from apps.core.panels import collect_panels

    panels = collect_panels("tce", request=request, obj=tce)
    context = {
        "tce": tce,
        "siblings": selectors.tce_list(target_id=tce.target_id).exclude(pk=tce.pk),
        "panels": panels,
        "bokeh": any(p.get("bokeh") for p in panels),
    }
    return render(request, "catalog/tce_detail.html", context)
