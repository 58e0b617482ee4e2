"""Vetting endpoints: labels and status of a TCE, work queues with claims, conflicts and adjudication.

Who may call what is the permission table (apps/accounts/permissions.py, API_PERMISSIONS "vetting.*").
"""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema, Status
from ninja.pagination import paginate

from apps.catalog.selectors import tce_get
from apps.core.pagination import LimitOffsetPagination
from apps.vetting.models import VettingLabel
from apps.vetting.selectors import (
    adjudication_current,
    conflict_list,
    consensus,
    current_labels,
    label_history,
    queue_list,
    state_of,
)
from apps.vetting.services import adjudicate, label_add, queue_next, queue_rows_sync

router = Router(tags=["vetting"])


class LabelOut(Schema):
    id: int
    tce_id: int
    user: str
    label: str
    confidence: str
    comment: str
    flags: list[str]
    period: float | None
    epoch: float | None
    duration: float | None
    views_version: int | None
    views_preset: str
    created_at: datetime


class LabelIn(Schema):
    label: str
    confidence: str = VettingLabel.Confidence.MEDIUM
    comment: str = ""
    flags: list[str] = []
    period: float | None = None  # proposed period, d
    epoch: float | None = None  # proposed mid-transit time, the TCE's epoch_system
    duration: float | None = None  # proposed duration, h
    views_version: int | None = None  # the views artifact version shown (default: the newest)
    views_preset: str | None = None


class AdjudicationIn(Schema):
    label: str
    reason: str


class AdjudicationOut(Schema):
    id: int
    tce_id: int
    user: str
    label: str
    reason: str
    created_at: datetime


class ConsensusOut(Schema):
    label: str | None
    votes: dict[str, int]
    n_people: int
    labels: list[LabelOut]
    status: str
    final_label: str | None
    history: list[LabelOut]
    adjudication: AdjudicationOut | None


class NextOut(Schema):
    tce_id: int
    claim_expires_at: datetime


class QueueOut(Schema):
    name: str
    title: str
    description: str
    count: int
    capped: bool
    serves: bool


class ConflictOut(Schema):
    tce_id: int
    tce: str
    votes: dict[str, int]
    labels: list[LabelOut]
    since: datetime


def _label_out(label: VettingLabel) -> dict:
    return {"id": label.pk, "tce_id": label.tce_id, "user": label.user.get_username(), "label": label.label,
            "confidence": label.confidence, "comment": label.comment, "flags": label.flags,
            "period": label.period_days, "epoch": label.epoch, "duration": label.duration_hours,
            "views_version": label.views_version, "views_preset": label.views_preset, "created_at": label.created_at}


def _adjudication_out(row) -> dict:  # noqa: ANN001
    return {"id": row.pk, "tce_id": row.tce_id, "user": row.user.get_username(), "label": row.label,
            "reason": row.reason, "created_at": row.created_at}


@router.get("/tces/{tce_id}/labels", response=ConsensusOut)
def get_labels(request: HttpRequest, tce_id: int):
    """Each person's newest label and the majority, the status, every label (newest first) and the adjudication."""
    tce_get(tce_id=tce_id)
    agreed, state, adjudication = consensus(tce_id=tce_id), state_of(tce_id=tce_id), adjudication_current(tce_id=tce_id)
    return {"label": agreed.label, "votes": agreed.votes, "n_people": agreed.n_people,
            "labels": [_label_out(label) for label in current_labels(tce_id=tce_id)],
            "status": state.status, "final_label": state.label or None,
            "history": [_label_out(label) for label in label_history(tce_id=tce_id)],
            "adjudication": _adjudication_out(adjudication) if adjudication else None}


@router.post("/tces/{tce_id}/labels", response={201: LabelOut})
def add_label(request: HttpRequest, tce_id: int, payload: LabelIn):
    label = label_add(tce=tce_get(tce_id=tce_id), user=request.user, **payload.dict())
    return Status(201, _label_out(label))


@router.get("/queues", response=list[QueueOut])
def list_queues(request: HttpRequest):
    """The queues you may work, with how many TCEs each holds for you (counted up to 1000)."""
    queue_rows_sync()
    return queue_list(user=request.user, now=timezone.now())


@router.post("/queues/{queue}/next", response={200: NextOut, 204: None})
def next_in_queue(request: HttpRequest, queue: str):
    """Claim the next TCE of a queue for GAIA_CLAIM_MINUTES; 204 when the queue has nothing for you."""
    claimed = queue_next(user=request.user, queue=queue)
    if claimed is None:
        return Status(204, None)
    tce, expires = claimed
    return {"tce_id": tce.pk, "claim_expires_at": expires}


@router.get("/conflicts", response=list[ConflictOut])
@paginate(LimitOffsetPagination)
def list_conflicts(request: HttpRequest):
    """TCEs whose labels disagree, longest waiting first."""
    return _ConflictRows(conflict_list())


@router.post("/tces/{tce_id}/adjudication", response={201: AdjudicationOut})
def add_adjudication(request: HttpRequest, tce_id: int, payload: AdjudicationIn):
    row = adjudicate(tce=tce_get(tce_id=tce_id), user=request.user, label=payload.label, reason=payload.reason)
    return Status(201, _adjudication_out(row))


class _ConflictRows:
    """A sliceable view of the conflict queryset that shapes only the rows of the requested page."""

    def __init__(self, states) -> None:  # noqa: ANN001
        self.states = states

    def count(self) -> int:
        return self.states.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, window: slice) -> list[dict]:
        rows = []
        for state in self.states[window]:
            agreed = consensus(tce_id=state.tce_id)
            rows.append({"tce_id": state.tce_id, "tce": state.tce.label, "votes": agreed.votes,
                         "labels": [_label_out(label) for label in current_labels(tce_id=state.tce_id)],
                         "since": state.updated_at})
        return rows
