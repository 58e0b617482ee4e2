"""Model registry and scoring endpoints."""

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.pagination import paginate

from apps.catalog.selectors import tce_get
from apps.core.pagination import LimitOffsetPagination
from apps.jobs.schemas import JobRef, job_ref, queued_status
from apps.jobs.services import job_enqueue
from apps.ml import selectors

router = Router(tags=["ml"])


class ModelVersionOut(Schema):
    id: int
    name: str
    task: str
    preset: str
    view_preset: str
    weights_sha256: str
    temperature: float
    is_default: bool
    metrics: dict[str, Any]
    created_at: datetime


class PredictionOut(Schema):
    id: int
    tce_id: int
    model_version_id: int
    model_name: str = Field(..., alias="model_version.name")
    raw_score: float
    probability: float
    views_version: int
    job_id: int | None
    created_at: datetime


class ScoreIn(Schema):
    target_id: int | None = None
    tce_ids: list[int] | None = None
    missing: bool = False
    model: str | None = Field(None, description="model version id or name; default: the task's default")
    task: str = "triage"



@router.get("/models", response=list[ModelVersionOut])
@paginate(LimitOffsetPagination)
def list_models(request: HttpRequest):
    return selectors.modelversion_list()


@router.get("/models/{version_id}", response=ModelVersionOut)
def get_model(request: HttpRequest, version_id: int):
    return selectors.modelversion_get(version_id=version_id)


@router.get("/tces/{tce_id}/predictions", response=list[PredictionOut])
def list_predictions(request: HttpRequest, tce_id: int):
    tce_get(tce_id=tce_id)
    return list(selectors.predictions_for_tce(tce_id=tce_id)[:200])


@router.post("/score", response={200: JobRef, 202: JobRef})
def score(request: HttpRequest, payload: ScoreIn):
    """Queue an ``infer`` job: all TCEs of a target, a list of TCEs, or every TCE lacking a score."""
    params = {k: v for k, v in payload.dict().items() if v not in (None, False)}
    job = job_enqueue(kind="infer", params=params, user=request.user)
    return queued_status(job), job_ref(job)
