"""Catalogue endpoints: targets, TCEs and light-curve rows (their series: apps/lightcurves/api.py)."""


from django.http import HttpRequest
from ninja import Query, Router
from ninja.pagination import paginate

from apps.catalog import selectors
from apps.catalog.schemas import (
    LightCurveOut,
    TargetFilters,
    TargetOut,
    TCEFilters,
    TCEOut,
)
from apps.core.pagination import LimitOffsetPagination

router = Router(tags=["catalog"])


@router.get("/targets", response=list[TargetOut])
@paginate(LimitOffsetPagination)
def list_targets(request: HttpRequest, filters: Query[TargetFilters]):
    return selectors.target_list(**filters.dict())


@router.get("/targets/{target_id}", response=TargetOut)
def get_target(request: HttpRequest, target_id: int):
    return selectors.target_get(target_id=target_id)


@router.get("/targets/{target_id}/tces", response=list[TCEOut])
@paginate(LimitOffsetPagination)
def list_target_tces(request: HttpRequest, target_id: int):
    selectors.target_get(target_id=target_id)
    return selectors.tce_list(target_id=target_id)


@router.get("/targets/{target_id}/lightcurves", response=list[LightCurveOut])
@paginate(LimitOffsetPagination)
def list_target_lightcurves(request: HttpRequest, target_id: int):
    selectors.target_get(target_id=target_id)
    return selectors.lightcurve_list(target_id=target_id)


@router.get("/tces", response=list[TCEOut])
@paginate(LimitOffsetPagination)
def list_tces(request: HttpRequest, filters: Query[TCEFilters]):
    return selectors.tce_list(**filters.dict())


@router.get("/tces/{tce_id}", response=TCEOut)
def get_tce(request: HttpRequest, tce_id: int):
    return selectors.tce_get(tce_id=tce_id)


@router.get("/lightcurves", response=list[LightCurveOut])
@paginate(LimitOffsetPagination)
def list_lightcurves(request: HttpRequest, target_id: int | None = None):
    return selectors.lightcurve_list(target_id=target_id)


@router.get("/lightcurves/{lightcurve_id}", response=LightCurveOut)
def get_lightcurve(request: HttpRequest, lightcurve_id: int):
    return selectors.lightcurve_get(lightcurve_id=lightcurve_id)
