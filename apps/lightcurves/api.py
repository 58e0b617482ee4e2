"""Processing endpoints: enqueue process/search jobs for a target; read a TCE's views."""

from django.conf import settings
from django.http import HttpRequest
from ninja import Router

from apps.catalog.selectors import lightcurve_get, target_get, tce_get
from apps.core.errors import InvalidInput, NotFound
from apps.jobs.schemas import JobRef, job_ref, queued_status
from apps.jobs.services import job_enqueue
from apps.lightcurves.schemas import ProcessIn, SearchIn, SeriesOut, ViewsOut
from apps.lightcurves.science.views import PRESETS
from apps.lightcurves.selectors import lightcurve_series, tce_views_latest

router = Router(tags=["lightcurves"])


@router.post("/targets/{target_id}/process", response={200: JobRef, 202: JobRef})
def process_target(request: HttpRequest, target_id: int, payload: ProcessIn):
    target = target_get(target_id=target_id)
    job = job_enqueue(
        kind="process_target", params={"target_id": target.pk, "presets": payload.presets},
        targets=[target], user=request.user,
    )
    return queued_status(job), job_ref(job)


@router.post("/targets/{target_id}/search", response={200: JobRef, 202: JobRef})
def search_target(request: HttpRequest, target_id: int, payload: SearchIn):
    target = target_get(target_id=target_id)
    job = job_enqueue(
        kind="search_target", params={"target_id": target.pk, **payload.dict()}, targets=[target], user=request.user
    )
    return queued_status(job), job_ref(job)


@router.get("/tces/{tce_id}/views", response=ViewsOut)
def get_views(request: HttpRequest, tce_id: int, preset: str = "gaia"):
    if preset not in PRESETS:
        raise InvalidInput(f"unknown preset {preset[:40]!r}; choose from {sorted(PRESETS)}")
    tce = tce_get(tce_id=tce_id)
    latest = tce_views_latest(tce_id=tce.pk, preset=preset)
    if latest is None:
        raise NotFound(f"TCE {tce_id} has no {preset!r} views yet: process its target")
    views, artifact = latest
    return {
        "tce_id": tce.pk, "preset": preset, "version": artifact.version,
        "views": {name: [float(v) for v in values] for name, values in views.items()},
        "diagnostics": artifact.meta.get("diagnostics", {}),
    }


# The operation id predates the move from the catalogue router: kept so generated clients keep working.
@router.get(
    "/{lightcurve_id}/series", response=SeriesOut, operation_id="catalog.get_lightcurve_series", url_name="lightcurve-series"
)
def get_lightcurve_series(
    request: HttpRequest,
    lightcurve_id: int,
    full: bool = False,
    max_points: int | None = None,
    t_min: float | None = None,
    t_max: float | None = None,
):
    """The PDCSAP series normalised by its median; downsampled unless ``full=true``.

    ``t_min``/``t_max`` (mission time) keep one window before downsampling: what a zoomed plot asks
    for, so that a narrow window comes back at full resolution. ``n_points_total`` counts the window.
    """
    curve = lightcurve_get(lightcurve_id=lightcurve_id)
    limit = None if full else (max_points or settings.API_SERIES_MAX_POINTS)
    series = lightcurve_series(lightcurve=curve, max_points=limit, t_min=t_min, t_max=t_max)
    return {
        "lightcurve_id": curve.pk,
        "time_system": curve.time_system,
        "t_min": t_min,
        "t_max": t_max,
        "n_points_total": series.n_total,
        "downsampled": series.downsampled,
        "time": series.time.tolist(),
        "flux": [None if v != v else v for v in series.flux.tolist()],
        "flux_err": [None if v != v else v for v in series.flux_err.tolist()],
        "quality": series.quality.tolist(),
        "flagged": series.flagged.tolist(),
    }
