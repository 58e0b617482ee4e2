"""Eclipse pages: the list, and an eclipse page with image, movie, sources, light curves and downloads."""

from __future__ import annotations

import hashlib

import numpy as np
from bokeh.embed import components
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from apps.core.errors import GaiaError
from apps.core.http import page_object
from apps.galex import selectors
from apps.galex.models import Eclipse
from apps.galex.params import COMPRESSIONS
from apps.jobs.selectors import job_list
from apps.jobs.services import job_enqueue
from apps.plots.galex import gaperture_figure, movie_player, sky_image_figure

SOURCE_TABLE_ROWS = 50
PAGE_CACHE_SECONDS = 3600


def eclipse_list(request: HttpRequest) -> HttpResponse:
    return render(request, "galex/eclipse_list.html", {"eclipses": selectors.eclipse_list()})


def _reduced_figures(eclipse, artifacts) -> tuple[dict, dict]:  # noqa: ANN001
    figures, extra = {}, {}
    by_kind = {
        kind: [a for a in artifacts if a.kind == kind] for kind in {a.kind for a in artifacts}
    }
    sources = None
    if by_kind.get("source_table"):
        sources = selectors.source_table(artifact=by_kind["source_table"][0])
        extra["sources"] = sources.head(SOURCE_TABLE_ROWS).round(5).to_dict("records")
        extra["source_columns"] = [
            c
            for c in (
                "ra",
                "dec",
                "xcenter",
                "ycenter",
                "aperture_sum",
                "exptime",
                "artifact_flag",
                "segment_flux",
            )
            if c in sources.columns
        ]
    image = selectors.image_display(artifacts=artifacts)
    if image is not None:
        xs = sources["xcenter"] if sources is not None and "xcenter" in sources else ()
        ys = sources["ycenter"] if sources is not None and "ycenter" in sources else ()
        figures["image"] = _sky_image(
            image,
            sources_x=xs,
            sources_y=ys,
            title=f"{eclipse} full-depth image (counts)",
            stretch_url=reverse("api-1:galex-image", kwargs={"eclipse_id": eclipse.pk}),
        )
    if (by_kind.get("movie_preview") or by_kind.get("movie")) and by_kind.get("lightcurves"):
        first = selectors.movie_frames(artifacts=artifacts, start=0, count=1)
        curves = selectors.source_curves(artifact=by_kind["lightcurves"][0])
        n_frames = min(first.n_frames, len(curves.t_mid)) if len(curves.t_mid) else first.n_frames
        if n_frames and len(first.frames):
            figures["movie"] = movie_player(
                first.frames[0],
                n_frames,
                curves.t_mid if len(curves.t_mid) >= n_frames else np.resize(curves.t_mid, n_frames),
                curves.curves,
                frames_url=reverse("api-1:galex-movie-frames", kwargs={"eclipse_id": eclipse.pk}),
            )
    return figures, extra


def _sky_image(image: selectors.SkyImage, **options: object):  # noqa: ANN202 - as sky_image_figure
    """The sky image figure of one image product: its planes and WCS keywords, and ``options``."""
    return sky_image_figure(
        image.planes, crval=image.crval, crpix=image.crpix, cdelt=image.cdelt, factor=image.factor, **options
    )


def _gphoton_figures(artifacts) -> dict:  # noqa: ANN001
    products = selectors.gphoton_products(artifacts=artifacts)
    figures = {}
    for index, (name, table) in enumerate(products.lightcurves):
        figures[f"gphoton_lc_{index}"] = gaperture_figure(
            table["t_mean"].to_numpy(float),
            table["cps"].to_numpy(float),
            table["cps_err"].to_numpy(float),
            title=f"{name} (gPhoton gAperture)",
        )
    for index, (name, image) in enumerate(products.coadds):
        figures[f"gphoton_coadd_{index}"] = _sky_image(image, title=f"{name} (gPhoton gMap)")
    return figures


@page_object(selectors.eclipse_get, "eclipse_id")
def eclipse_detail(request: HttpRequest, eclipse: Eclipse) -> HttpResponse:
    artifacts = selectors.eclipse_artifacts(eclipse=eclipse)
    # The plots depend only on the products (artifacts never change; a reduction adds versions),
    # so they are built once per set of artifacts: Bokeh's model building is most of the time.
    key = "galex-page:" + hashlib.sha256(
        f"{eclipse.pk}:{eclipse.source}:{[a.pk for a in artifacts]}".encode()
    ).hexdigest()
    script, divs, extra, error = cache.get(key) or (None, None, None, None)
    if script is None:
        try:
            if eclipse.source == "gphoton":
                figures, extra = _gphoton_figures(artifacts), {}
            else:
                figures, extra = _reduced_figures(eclipse, artifacts)
        except (GaiaError, OSError, ValueError, KeyError) as exc:
            figures, extra, error = {}, {}, f"cannot display products: {exc}"
        script, divs = components(figures) if figures else ("", {})
        if error is None:
            cache.set(key, (script, divs, extra, None), PAGE_CACHE_SECONDS)
    context = {
        "eclipse": eclipse,
        "artifacts": artifacts,
        "bokeh": bool(divs),
        "plot_script": script,
        "plots": divs,
        "error": error,
        "compressions": COMPRESSIONS,
        "jobs": job_list(kind="reduce_eclipse").filter(params__eclipse_id=eclipse.pk)[:10],
        **extra,
    }
    return render(request, "galex/eclipse_detail.html", context)


@require_POST
@login_required
def eclipse_reduce(request: HttpRequest, eclipse_id: int) -> HttpResponse:
    params = {
        "eclipse_id": eclipse_id,
        "depth": request.POST.get("depth") or None,
        "compression": request.POST.get("compression", "gzip"),
        "burst": request.POST.get("burst") == "on",
        "aperture_sizes": [a.strip() for a in request.POST.get("aperture_sizes", "12.8").split(",") if a.strip()],
        "pixel_convention": request.POST.get("pixel_convention", "gaia"),
        "coregister": request.POST.get("coregister") == "on",
        "photometry_only": request.POST.get("photometry_only") == "on",
    }
    try:
        job = job_enqueue(kind="reduce_eclipse", params=params, user=request.user)
    except GaiaError as exc:
        messages.error(request, exc.message)
        return redirect("galex-eclipse-detail", eclipse_id=eclipse_id)
    return redirect("job-detail", job_id=job.pk)
