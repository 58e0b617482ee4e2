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
    model_weights_sha256: str = Field(..., alias="model_version.weights_sha256")
    domain_warning: str | None = Field(None, description="why the TCE lies outside the model's training domain")
    raw_score: float
    probability: float
    views_version: int
    job_id: int | None
    created_at: datetime


class ModelRef(Schema):
    id: int
    name: str
    weights_sha256: str


class TCEScoreOut(Schema):
    tce_id: int
    score: float | None = Field(None, description="TCE.score: the triage probability by the default model of the TCE's mission")
    model: ModelRef | None = Field(None, description="the model that made it (the mission's default)")
    domain_warning: str | None = Field(None, description="why the TCE lies outside that model's training domain")


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
    tce = tce_get(tce_id=tce_id)
    predictions = list(selectors.predictions_for_tce(tce_id=tce_id)[:200])
    cadences = selectors.tce_cadences(target_id=tce.target_id)
    for prediction in predictions:
        prediction.domain_warning = selectors.tce_domain_warning(prediction.model_version, tce, cadences=cadences)
    return predictions


@router.get("/tces/{tce_id}/score", response=TCEScoreOut)
def tce_score(request: HttpRequest, tce_id: int):
    """The catalogue score of a TCE (as in the TCE list), the model that made it and its domain warning."""
    tce = tce_get(tce_id=tce_id)
    source = selectors.score_source(tce) if tce.score is not None else None
    return {
        "tce_id": tce.pk,
        "score": tce.score,
        "model": source.version if source else None,
        "domain_warning": source.warning if source else None,
    }


@router.post("/score", response={200: JobRef, 202: JobRef})
def score(request: HttpRequest, payload: ScoreIn):
    """Queue an ``infer`` job: all TCEs of a target, a list of TCEs, or every TCE lacking a score."""
    params = {k: v for k, v in payload.dict().items() if v not in (None, False)}
    job = job_enqueue(kind="infer", params=params, user=request.user)
    return queued_status(job), job_ref(job)
