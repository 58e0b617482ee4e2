"""GALEX endpoints: eclipses, their products, and enqueueing a reduction."""

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate
from ninja.security import django_auth

from apps.galex import selectors
from apps.jobs.schemas import JobRef, job_ref
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


@router.post("/eclipses/{eclipse_id}/reduce", response={202: JobRef}, auth=django_auth)
def reduce(request: HttpRequest, eclipse_id: int, payload: ReduceIn):
    selectors.eclipse_get(eclipse_id=eclipse_id)
    job = job_enqueue(
        kind="reduce_eclipse",
        params={"eclipse_id": eclipse_id, **payload.dict()},
        user=request.user,
    )
    return 202, job_ref(job)
