"""Processing endpoints: enqueue process/search jobs for a target; read a TCE's views."""

from django.http import HttpRequest
from ninja import Router

from apps.catalog.selectors import target_get, tce_get
from apps.core.errors import InvalidInput, NotFound
from apps.jobs.schemas import JobRef, job_ref, queued_status
from apps.jobs.services import job_enqueue
from apps.lightcurves.schemas import ProcessIn, SearchIn, ViewsOut
from apps.lightcurves.science.views import PRESETS
from apps.lightcurves.selectors import tce_views_latest

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
