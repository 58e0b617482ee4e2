"""GALEX endpoints: eclipses, their products, and enqueueing a reduction."""

import base64
from datetime import datetime
from typing import Any, Literal

import numpy as np
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from apps.core.errors import NotFound
from apps.core.pagination import LimitOffsetPagination
from apps.galex import selectors
from apps.jobs.schemas import JobRef, job_ref, queued_status
from apps.jobs.services import job_enqueue

router = Router(tags=["galex"])


class EclipseOut(Schema):
    id: int
    number: int | None
    band: str
    label: str
    source: str
    legs: int
    plan_type: str
    status: str
    warnings: list[str]
    summary: dict[str, Any]


class ProductOut(Schema):
    id: int
    kind: str
    key: str
    version: int
    sha256: str
    size_bytes: int
    created_at: datetime
    download_url: str


class ReduceIn(Schema):
    depth: float | None = Field(30.0, description="movie frame length, s; null for image only")
    compression: str = Field("gzip", description="gzip, rice or none")
    burst: bool = False
    aperture_sizes: list[float] = Field([12.8], description="aperture radii, arcsec (one table per radius)")
    pixel_convention: str = Field("gaia", description="gaia (0-based, exact) or gphoton2 (its 1-pixel offset)")
    coregister: bool = Field(False, description="frames start where the other band's light curves start")
    photometry_only: bool = Field(False, description="redo the photometry on the newest image and movie")
    threads: int = Field(1, description="threads for decode/calibrate and movie/photometry (1..8)")



@router.get("/eclipses", response=list[EclipseOut])
@paginate(LimitOffsetPagination)
def list_eclipses(request: HttpRequest):
    return selectors.eclipse_list()


@router.get("/eclipses/{eclipse_id}", response=EclipseOut)
def get_eclipse(request: HttpRequest, eclipse_id: int):
    return selectors.eclipse_get(eclipse_id=eclipse_id)


@router.get("/eclipses/{eclipse_id}/products", response=list[ProductOut])
def list_products(request: HttpRequest, eclipse_id: int):
    eclipse = selectors.eclipse_get(eclipse_id=eclipse_id)
    return [
        {
            **{
                f: getattr(a, f)
                for f in ("id", "kind", "key", "version", "sha256", "size_bytes", "created_at")
            },
            "download_url": f"/artifacts/{a.pk}/download/",
        }
        for a in selectors.eclipse_artifacts(eclipse=eclipse)
    ]


class ImagePlaneOut(Schema):
    stretch: str
    shape: list[int] = Field(description="[ny, nx] of the display image")
    factor: int = Field(description="display pixel = factor x factor product pixels (1.5 arcsec)")
    data: str = Field(description="base64 of ny*nx uint8 levels, row by row (white at 255)")


class MovieFramesOut(Schema):
    n_frames: int
    start: int
    shape: list[int] = Field(description="[ny, nx] of a display frame")
    frames: list[str] = Field(description="base64 of ny*nx uint8 levels per frame (log stretch, one scale)")


@router.get("/eclipses/{eclipse_id}/image", response=ImagePlaneOut, url_name="galex-image")
def get_image(request: HttpRequest, eclipse_id: int, stretch: Literal["log", "asinh"] = "log"):
    eclipse = selectors.eclipse_get(eclipse_id=eclipse_id)
    image = selectors.image_display(artifacts=selectors.eclipse_artifacts(eclipse=eclipse))
    if image is None:
        raise NotFound(f"{eclipse} has no image yet")
    plane = np.ascontiguousarray(image.planes[stretch], np.uint8)
    return {"stretch": stretch, "shape": list(plane.shape), "factor": image.factor,
            "data": base64.b64encode(plane.tobytes()).decode()}  # fmt: skip


@router.get("/eclipses/{eclipse_id}/movie/frames", response=MovieFramesOut, url_name="galex-movie-frames")
def list_movie_frames(
    request: HttpRequest, eclipse_id: int, start: int = Query(0, ge=0), count: int = Query(16, ge=1, le=64)
):
    eclipse = selectors.eclipse_get(eclipse_id=eclipse_id)
    page = selectors.movie_frames(artifacts=selectors.eclipse_artifacts(eclipse=eclipse), start=start, count=count)
    shape = list(page.frames.shape[1:]) if page.frames.ndim == 3 else [0, 0]
    return {"n_frames": page.n_frames, "start": start, "shape": shape,
            "frames": [base64.b64encode(np.ascontiguousarray(f).tobytes()).decode() for f in page.frames]}  # fmt: skip


@router.post("/eclipses/{eclipse_id}/reduce", response={200: JobRef, 202: JobRef})
def reduce(request: HttpRequest, eclipse_id: int, payload: ReduceIn):
    selectors.eclipse_get(eclipse_id=eclipse_id)
    job = job_enqueue(
        kind="reduce_eclipse",
        params={"eclipse_id": eclipse_id, **payload.dict()},
        user=request.user,
    )
    return queued_status(job), job_ref(job)
