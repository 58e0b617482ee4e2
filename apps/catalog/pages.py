"""Pages for the dashboard, targets and TCEs. Views fetch through selectors and embed pure plots.

The target and TCE pages compose panels that the owning apps register (apps/core/panels.py):
the light curve and views come from apps.lightcurves, scores from apps.ml, and so on.
"""

from __future__ import annotations

from collections.abc import Callable

from bokeh.embed import components
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.catalog import selectors
from apps.catalog.forms import FilterForm, TargetFilterForm, TCEFilterForm
from apps.catalog.models import TCE, Disposition, Mission, Target
from apps.catalog.services import catalog_summary
from apps.core.errors import GaiaError
from apps.core.http import page_object
from apps.core.pagination import CappedPaginator, capped_count
from apps.core.panels import collect_panels
from apps.jobs.selectors import job_list
from apps.plots.figures import bar_figure, binned_histogram_figure

PAGE_SIZE = 50


def _page(request: HttpRequest, queryset):
    paginator = CappedPaginator(queryset, PAGE_SIZE)
    return paginator.get_page(request.GET.get("page"))


#: The dashboard's rendered figures (script, divs) of the summary computed at a given time, per process:
#: building three Bokeh figures costs more than everything else on the page.
_DASHBOARD_FIGURES: dict[str, tuple[str, dict]] = {}


def _dashboard_figures(summary) -> tuple[str, dict]:  # noqa: ANN001 - a CatalogSummary
    key = summary.computed_at.isoformat()
    rendered = _DASHBOARD_FIGURES.get(key)
    if rendered is None:
        data = summary.data
        by_disposition: dict[str, int] = {}
        for row in data["breakdown"]:
            by_disposition[row["disposition"]] = by_disposition.get(row["disposition"], 0) + row["n"]
        periods, durations = data["periods"], data["durations"]
        figures = {
            "periods": binned_histogram_figure(periods["edges"], periods["counts"], title="TCE periods",
                                               x_label="period (d)", log_x=True),
            "durations": binned_histogram_figure(durations["edges"], durations["counts"], title="TCE durations",
                                                 x_label="duration (h)", log_x=True),
            "dispositions": bar_figure(list(by_disposition), list(by_disposition.values()),
                                       title="Catalogue dispositions"),
        }
        rendered = components(figures)
        _DASHBOARD_FIGURES.clear()
        _DASHBOARD_FIGURES[key] = rendered
    return rendered


def home(request: HttpRequest) -> HttpResponse:
    summary = catalog_summary()
    counts = dict(summary.data["counts"])
    counts["jobs"], jobs_capped = capped_count(job_list())
    script, divs = _dashboard_figures(summary)
    context = {
        "counts": counts,
        "jobs_capped": jobs_capped,
        "breakdown": summary.data["breakdown"],
        "dispositions": Disposition,
        "bokeh": True,
        "plot_script": script,
        "plots": divs,
        "recent_jobs": job_list()[:8],
    }
    return render(request, "catalog/home.html", context)


def _filtered(form: FilterForm, select: Callable[..., QuerySet]) -> tuple[QuerySet, str | None]:
    """The rows a list page shows, and why its filters were refused: every row when the form is
    empty or invalid (the form shows its own errors), the selection when the selector accepts it,
    else every row and the selector's message."""
    if form.is_valid():
        try:
            return select(**form.cleaned_filters()), None
        except GaiaError as exc:
            return select(), exc.message
    return select(), None


def target_list(request: HttpRequest) -> HttpResponse:
    form = TargetFilterForm(request.GET or None)
    targets, error = _filtered(form, selectors.target_list)
    context = {"form": form, "page": _page(request, targets), "error": error, "missions": Mission}
    return render(request, "catalog/target_list.html", context)


@page_object(selectors.target_get, "target_id")
def target_detail(request: HttpRequest, target: Target) -> HttpResponse:
    panels = target_panels(request, target)
    context = {
        "target": target,
        "tces": selectors.tce_list(target_id=target.pk),
        "jobs": job_list(target_id=target.pk)[:20],
        "links": external_links(target),
        "bokeh": any(p.get("bokeh") for p in panels),
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
    """Sections the apps that own them contribute to the target page (light curve, processing, scores)."""
    return collect_panels("target", request=request, obj=target)


def tce_list(request: HttpRequest) -> HttpResponse:
    form = TCEFilterForm(request.GET or None)
    tces, error = _filtered(form, selectors.tce_list)
    return render(request, "catalog/tce_list.html", {"form": form, "page": _page(request, tces), "error": error})


@page_object(selectors.tce_get, "tce_id")
def tce_detail(request: HttpRequest, tce: TCE) -> HttpResponse:
    panels = collect_panels("tce", request=request, obj=tce)
    context = {
        "tce": tce,
        "facts": collect_panels("tce-facts", request=request, obj=tce),
        "siblings": selectors.tce_list(target_id=tce.target_id).exclude(pk=tce.pk),
        "panels": panels,
        "bokeh": any(p.get("bokeh") for p in panels),
    }
    return render(request, "catalog/tce_detail.html", context)
