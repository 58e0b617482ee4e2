"""Writes for vetting: record a person's label (a new row each time; history is kept)."""

from __future__ import annotations

from apps.catalog.models import TCE
from apps.core.errors import InvalidInput
from apps.vetting.models import VettingLabel


def label_add(*, tce: TCE, user, label: str, comment: str = "") -> VettingLabel:  # noqa: ANN001
    if label not in VettingLabel.Choice.values:
        raise InvalidInput(f"unknown label {label!r}; choose from {VettingLabel.Choice.values}")
    if not getattr(user, "is_authenticated", False):
        raise InvalidInput("labels need a logged-in user")
    return VettingLabel.objects.create(tce=tce, user=user, label=label, comment=comment.strip()[:2000])
