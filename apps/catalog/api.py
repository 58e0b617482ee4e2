"""Catalogue endpoints: targets, TCEs, light curves and their series."""


from django.conf import settings
from django.http import HttpRequest
from ninja import Query, Router
from ninja.pagination import paginate

from apps.catalog import selectors
from apps.catalog.schemas import (
    LightCurveOut,
    SeriesOut,
    TargetFilters,
    TargetOut,
    TCEFilters,
    TCEOut,
)
from apps.core.pagination import LimitOffsetPagination
from apps.lightcurves.selectors import lightcurve_series

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


@router.get("/lightcurves/{lightcurve_id}/series", response=SeriesOut)
def get_lightcurve_series(
    request: HttpRequest, lightcurve_id: int, full: bool = False, max_points: int | None = None
):
    """The PDCSAP series normalised by its median; downsampled unless ``full=true``."""
    curve = selectors.lightcurve_get(lightcurve_id=lightcurve_id)
    limit = None if full else (max_points or settings.API_SERIES_MAX_POINTS)
    series = lightcurve_series(lightcurve=curve, max_points=limit)
    return {
        "lightcurve_id": curve.pk,
        "time_system": curve.time_system,
        "n_points_total": series.n_total,
        "downsampled": series.downsampled,
        "time": series.time.tolist(),
        "flux": [None if v != v else v for v in series.flux.tolist()],
        "flux_err": [None if v != v else v for v in series.flux_err.tolist()],
        "quality": series.quality.tolist(),
        "flagged": series.flagged.tolist(),
    }
