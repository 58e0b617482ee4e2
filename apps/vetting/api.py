"""Vetting endpoints: read labels and consensus of a TCE; add a label (logged in)."""

from datetime import datetime

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.security import django_auth

from apps.catalog.selectors import tce_get
from apps.vetting.selectors import consensus, current_labels
from apps.vetting.services import label_add

router = Router(tags=["vetting"])


class LabelOut(Schema):
    id: int
    tce_id: int
    user: str
    label: str
    comment: str
    created_at: datetime


class LabelIn(Schema):
    label: str
    comment: str = ""


class ConsensusOut(Schema):
    label: str | None
    votes: dict[str, int]
    n_people: int
    labels: list[LabelOut]


def _label_out(label) -> dict:  # noqa: ANN001
    return {"id": label.pk, "tce_id": label.tce_id, "user": label.user.get_username(), "label": label.label,
            "comment": label.comment, "created_at": label.created_at}


@router.get("/tces/{tce_id}/labels", response=ConsensusOut)
def get_labels(request: HttpRequest, tce_id: int):
    tce_get(tce_id=tce_id)
    agreed = consensus(tce_id=tce_id)
    return {"label": agreed.label, "votes": agreed.votes, "n_people": agreed.n_people,
            "labels": [_label_out(label) for label in current_labels(tce_id=tce_id)]}


@router.post("/tces/{tce_id}/labels", response={201: LabelOut}, auth=django_auth)
def add_label(request: HttpRequest, tce_id: int, payload: LabelIn):
    label = label_add(tce=tce_get(tce_id=tce_id), user=request.user, label=payload.label, comment=payload.comment)
    return 201, _label_out(label)
