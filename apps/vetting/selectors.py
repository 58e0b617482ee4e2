"""Reads for vetting: each person's newest label and the consensus."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from apps.vetting.models import VettingLabel


@dataclass(frozen=True)
class Consensus:
    label: str | None  # the majority label, None on a tie or without labels
    votes: dict[str, int]
    n_people: int


def current_labels(*, tce_id: int) -> list[VettingLabel]:
    """The newest label of every person who vetted the TCE."""
    newest: dict[int, VettingLabel] = {}
    for label in VettingLabel.objects.filter(tce_id=tce_id).select_related("user").order_by("-created_at", "-id"):
        newest.setdefault(label.user_id, label)
    return list(newest.values())


def consensus(*, tce_id: int) -> Consensus:
    votes = Counter(label.label for label in current_labels(tce_id=tce_id) if label.label != "?")
    ranked = votes.most_common()
    if not ranked or (len(ranked) > 1 and ranked[0][1] == ranked[1][1]):
        winner = None
    else:
        winner = ranked[0][0]
    return Consensus(winner, dict(votes), len(current_labels(tce_id=tce_id)))
