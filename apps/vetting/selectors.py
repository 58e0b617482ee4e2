"""Reads for vetting: labels and consensus of a TCE, the work queues, and the team's statistics."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, TruncDate

from apps.accounts.permissions import ADJUDICATE, user_can
from apps.catalog.models import Disposition
from apps.ml.models import ModelVersion, Prediction
from apps.ml.panels import POSITIVE, THRESHOLD
from apps.ml.science.datasets import PEOPLE_LABELS
from apps.ml.selectors import default_version
from apps.vetting.models import (
    DECISIVE_LABELS,
    Adjudication,
    CatalogLabel,
    CatalogLabelSource,
    VettingClaim,
    VettingLabel,
    VettingState,
    VettingStatus,
)
from apps.vetting.science.agreement import (
    category_counts,
    cohen_kappa,
    fleiss_kappa,
    pairwise_cohen,
    percent_agreement,
)

#: The model whose calibrated probability orders the "uncertain" and "disagree" queues: the default of this task.
QUEUE_MODEL_TASK = "triage"
#: Queue counts stop at this many (a count is an index walk too; "1000+" is all a person needs to know).
COUNT_CAP = 1000


@dataclass(frozen=True)
class Consensus:
    label: str | None  # the majority label, None on a tie or without labels
    votes: dict[str, int]
    n_people: int


@dataclass(frozen=True)
class QueueDef:
    name: str
    title: str
    description: str
    adjudicators_only: bool = False
    serves: bool = True  # False: a history to browse, "next" hands nothing out


QUEUES: dict[str, QueueDef] = {
    q.name: q
    for q in (
        QueueDef("uncertain", "Model uncertain", "scored TCEs you have not labelled, probability closest to 0.5 first"),
        QueueDef("disagree", "Model vs catalogue", "the default model and the catalogue disposition disagree, strongest first"),
        QueueDef("unlabelled", "Needs labels", "TCEs still short of labels, highest SNR first"),
        QueueDef("conflicts", "Conflicts", "people disagree: adjudicate", adjudicators_only=True),
        QueueDef("mine", "My labels", "your labels, newest first", serves=False),
    )
}


# --- one TCE ----------------------------------------------------------------------------------
def current_labels(*, tce_id: int) -> list[VettingLabel]:
    """The newest label of every person who vetted the TCE."""
    newest: dict[int, VettingLabel] = {}
    for label in VettingLabel.objects.filter(tce_id=tce_id).select_related("user").order_by("-created_at", "-id"):
        newest.setdefault(label.user_id, label)
    return list(newest.values())


def consensus(*, tce_id: int) -> Consensus:
    labels = current_labels(tce_id=tce_id)
    votes = Counter(label.label for label in labels if label.label != VettingLabel.Choice.UNSURE)
    ranked = votes.most_common()
    if not ranked or (len(ranked) > 1 and ranked[0][1] == ranked[1][1]):
        winner = None
    else:
        winner = ranked[0][0]
    return Consensus(winner, dict(votes), len(labels))


def label_history(*, tce_id: int) -> QuerySet[VettingLabel]:
    """Every label of the TCE, newest first."""
    return VettingLabel.objects.filter(tce_id=tce_id).select_related("user").order_by("-created_at", "-id")


def adjudication_current(*, tce_id: int) -> Adjudication | None:
    return Adjudication.objects.filter(tce_id=tce_id).select_related("user").order_by("-created_at", "-id").first()


def state_of(*, tce_id: int) -> VettingState:
    """The stored state, or the state of a TCE nobody labelled (unsaved)."""
    return VettingState.objects.filter(tce_id=tce_id).first() or VettingState(tce_id=tce_id)


def my_history(*, user) -> QuerySet[VettingLabel]:  # noqa: ANN001
    """The user's labels, newest first (the "mine" queue)."""
    return VettingLabel.objects.filter(user=user).select_related("tce__target").order_by("-created_at", "-id")


def conflict_list() -> QuerySet[VettingState]:
    """TCEs in conflict, longest waiting first."""
    return VettingState.objects.filter(status=VettingStatus.CONFLICT).select_related("tce__target").order_by("updated_at", "tce_id")


# --- queues -----------------------------------------------------------------------------------
def queue_model() -> ModelVersion | None:
    return default_version(QUEUE_MODEL_TASK)


def _live_claims_of_others(ref: str, user, now: datetime) -> Subquery:  # noqa: ANN001
    claims = (
        VettingClaim.objects.filter(tce_id=OuterRef(ref), expires_at__gt=now, released_at__isnull=True)
        .exclude(user=user)
        .order_by()
        .values("tce_id")
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )
    return Coalesce(Subquery(claims), Value(0))


def _not_mine(ref: str, user, now: datetime) -> list:  # noqa: ANN001
    """Never hand a TCE to someone who labelled it, nor again to someone who had it recently (a skip)."""
    return [
        ~Exists(VettingLabel.objects.filter(tce_id=OuterRef(ref), user=user)),
        ~Exists(VettingClaim.objects.filter(tce_id=OuterRef(ref), user=user, expires_at__gt=now)),
    ]


def _open_rows(user, now: datetime) -> QuerySet[VettingState]:  # noqa: ANN001
    """Queue rows open for labelling by ``user``: not decided, not theirs, and a label slot free
    (decisive labels + other people's live claims < GAIA_LABELS_PER_TCE)."""
    return (
        VettingState.objects.filter(status=VettingStatus.NEEDS_LABELS)
        .filter(*_not_mine("tce_id", user, now))
        .alias(_taken=F("n_labels") + _live_claims_of_others("tce_id", user, now))
        .filter(_taken__lt=settings.GAIA_LABELS_PER_TCE)
    )


def _newest_predictions(version: ModelVersion) -> QuerySet[Prediction]:
    """The model's newest prediction per TCE (older rows of a re-scored TCE are skipped)."""
    newer = Prediction.objects.filter(tce_id=OuterRef("tce_id"), model_version_id=version.pk).filter(
        Q(created_at__gt=OuterRef("created_at")) | Q(created_at=OuterRef("created_at"), pk__gt=OuterRef("pk"))
    )
    return Prediction.objects.filter(model_version=version).filter(~Exists(newer))


def catalogue_sides(task: str) -> tuple[list[str], list[str]]:
    """(positive, negative) catalogue dispositions for a model task; UNK is neither."""
    positive = sorted(POSITIVE.get(task, set()))
    negative = sorted(set(Disposition.values) - set(positive) - {Disposition.UNK})
    return positive, negative


def _queue_queryset(queue: str, user, now: datetime) -> QuerySet[VettingState] | None:  # noqa: ANN001
    """The queue's rows in its order, or None when it has nothing to walk.

    Each order is that of a partial index over open TCEs (see VettingState.Meta), so the walk stops at
    the first rows that pass the per-person checks and never passes decided TCEs.
    """
    if queue in ("uncertain", "disagree"):
        version = queue_model()
        if version is None:
            return None
        rows = _open_rows(user, now).filter(score_version_id=version.pk)
        if queue == "uncertain":
            return rows.filter(uncertainty__isnull=False).order_by("uncertainty", "tce_id")
        return rows.filter(disagreement__isnull=False).order_by("-disagreement", "-tce_id")
    if queue == "unlabelled":
        return _open_rows(user, now).order_by(F("snr").desc(nulls_last=True), "tce_id")
    if queue == "conflicts":
        rows = VettingState.objects.filter(status=VettingStatus.CONFLICT).filter(*_not_mine("tce_id", user, now))
        rows = rows.alias(_taken=_live_claims_of_others("tce_id", user, now)).filter(_taken__lt=1)
        return rows.order_by("updated_at", "tce_id")
    return None


def queue_walk(*, queue: str, user, now: datetime, batch: int = 16, skip: tuple[int, ...] = ()) -> list[int]:  # noqa: ANN001
    """Up to ``batch`` TCE ids the queue would hand ``user`` next, in order, leaving out ``skip``.

    Reads the queue rows as last synced (``apps.vetting.services.queue_rows_sync``).
    """
    rows = _queue_queryset(queue, user, now)
    if rows is None:
        return []
    if skip:
        rows = rows.exclude(tce_id__in=skip)
    return list(rows.values_list("tce_id", flat=True)[:batch])


def queue_serves(*, queue: str, tce_id: int, user, now: datetime) -> bool:  # noqa: ANN001
    """Whether the queue may hand this TCE to ``user`` now (re-checked with the TCE row locked)."""
    rows = _queue_queryset(queue, user, now)
    return rows is not None and rows.filter(tce_id=tce_id).exists()


def queue_count(*, queue: str, user, now: datetime, cap: int = COUNT_CAP) -> tuple[int, bool]:  # noqa: ANN001
    """(items, capped): how many the queue holds for ``user``, counted up to ``cap``."""
    if queue == "mine":
        return VettingLabel.objects.filter(user=user).values("tce_id").distinct().count(), False
    rows = _queue_queryset(queue, user, now)
    if rows is None:
        return 0, False
    n = rows.order_by().values("tce_id")[: cap + 1].count()
    return min(n, cap), n > cap


def queue_list(*, user, now: datetime) -> list[dict]:  # noqa: ANN001
    """The queues ``user`` may work, with counts."""
    out = []
    for definition in QUEUES.values():
        if definition.adjudicators_only and not user_can(user, ADJUDICATE):
            continue
        count, capped = queue_count(queue=definition.name, user=user, now=now)
        out.append({"name": definition.name, "title": definition.title, "description": definition.description,
                    "count": count, "capped": capped, "serves": definition.serves})
    return out


# --- statistics -------------------------------------------------------------------------------
def _current_decisive() -> dict[int, dict[str, str]]:
    """tce_id -> {username: label}: each person's newest label per TCE, '?' left out."""
    rows = (
        VettingLabel.objects.order_by("tce_id", "user_id", "-created_at", "-id")
        .distinct("tce_id", "user_id")
        .values_list("tce_id", "user__username", "label")
    )
    out: dict[int, dict[str, str]] = defaultdict(dict)
    for tce_id, username, label in rows:
        if label in DECISIVE_LABELS:
            out[tce_id][username] = label
    return out


def _binary(labels: list[str], task: str) -> list[int]:
    return [PEOPLE_LABELS[task][label] for label in labels]


def vetting_stats() -> dict:
    """Labels per vetter and per day, pairwise Cohen's kappa, Fleiss' kappa, agreement with catalogues and the model."""
    per_vetter = list(
        VettingLabel.objects.values(username=F("user__username"))
        .annotate(labels=Count("pk"), tces=Count("tce_id", distinct=True))
        .order_by("-labels", "username")
    )
    per_day = list(
        VettingLabel.objects.annotate(day=TruncDate("created_at")).values("day").annotate(labels=Count("pk")).order_by("-day")[:60]
    )
    by_tce = _current_decisive()
    by_rater: dict[str, dict[int, str]] = defaultdict(dict)
    for tce_id, labels in by_tce.items():
        for username, label in labels.items():
            by_rater[username][tce_id] = label
    multi = [list(labels.values()) for labels in by_tce.values() if len(labels) >= 2]
    fleiss = fleiss_kappa(category_counts(multi, DECISIVE_LABELS)) if multi else None
    finals = dict(VettingState.objects.exclude(label="").values_list("tce_id", "label"))
    return {
        "per_vetter": per_vetter,
        "per_day": per_day,
        "pairs": pairwise_cohen(by_rater),
        "fleiss": {"kappa": fleiss, "n_tces": len(multi)},
        "status": dict(VettingState.objects.values_list("status").annotate(n=Count("pk")).order_by("status")),
        "catalogue": _catalogue_agreement(finals),
        "model": _model_agreement(finals),
    }


def _catalogue_agreement(finals: dict[int, str]) -> list[dict]:
    rows = []
    for source in CatalogLabelSource:
        pairs = [
            (finals[tce_id], label)
            for tce_id, label in CatalogLabel.objects.filter(source=source, tce_id__in=list(finals)).values_list("tce_id", "label")
        ]
        ours, theirs = [p[0] for p in pairs], [p[1] for p in pairs]
        planet_ours, planet_theirs = _binary(ours, "vetting"), _binary(theirs, "vetting")
        rows.append({
            "source": source.value, "title": source.label, "n": len(pairs),
            "agreement": percent_agreement(ours, theirs), "kappa": cohen_kappa(ours, theirs),
            "planet_agreement": percent_agreement(planet_ours, planet_theirs),
            "planet_kappa": cohen_kappa(planet_ours, planet_theirs),
        })
    return rows


def _model_agreement(finals: dict[int, str]) -> dict | None:
    version = queue_model()
    if version is None:
        return None
    newest = (
        _newest_predictions(version).filter(tce_id__in=list(finals)).values_list("tce_id", "probability")
    )
    pairs = [(PEOPLE_LABELS[version.task][finals[tce_id]], int(p >= THRESHOLD)) for tce_id, p in newest]
    ours, model = [p[0] for p in pairs], [p[1] for p in pairs]
    return {"model": str(version), "task": version.task, "n": len(pairs),
            "agreement": percent_agreement(ours, model), "kappa": cohen_kappa(ours, model)}
