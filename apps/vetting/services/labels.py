"""Writes for people's labels and adjudications; each one rewrites the TCE's VettingState in its transaction."""

from __future__ import annotations

import math
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.accounts.permissions import ADJUDICATE, LABEL, needs_login, user_can
from apps.catalog.models import TCE
from apps.core.errors import AuthenticationRequired, InvalidInput, PermissionDeniedError
from apps.lightcurves.products import views_artifact
from apps.lightcurves.selectors import VIEW_PRESETS
from apps.vetting.models import (
    DECISIVE_LABELS,
    FLAG_VALUES,
    LABEL_ORDER,
    Adjudication,
    VettingClaim,
    VettingLabel,
    VettingState,
    VettingStatus,
)
from apps.vetting.selectors import adjudication_current, current_labels


def lock_tce(tce_id: int, *, skip_locked: bool = False) -> bool:
    """Lock the TCE row for this transaction (FOR NO KEY UPDATE); False when skipped because another holds it.

    Every write that changes how many labels a TCE still needs (a claim, a label, an adjudication) takes
    this lock first, so the count it checks cannot change under it.
    """
    rows = TCE.objects.select_for_update(no_key=True, skip_locked=skip_locked).filter(pk=tce_id)
    return bool(list(rows.values_list("pk", flat=True)))


def require_level(user, level: str, what: str) -> None:  # noqa: ANN001
    if user_can(user, level):
        return
    if needs_login(user, level):
        raise AuthenticationRequired(f"log in to {what}")
    raise PermissionDeniedError(f"your role may not {what} (needs {level})")


def _finite(name: str, value: float | None, *, positive: bool = False) -> float | None:
    if value is None:
        return None
    try:
        value = float(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{name} must be a number") from exc
    if not math.isfinite(value) or (positive and value <= 0):
        raise InvalidInput(f"{name} must be a finite{' positive' if positive else ''} number")
    return value


def _clean_flags(flags: Iterable[str]) -> list[str]:
    given = list(flags or [])
    unknown = sorted({str(f) for f in given} - set(FLAG_VALUES))
    if unknown:
        raise InvalidInput(f"unknown flag(s) {unknown}; choose from {list(FLAG_VALUES)}")
    return [f for f in FLAG_VALUES if f in given]  # canonical order, no duplicates


def _views_used(tce_id: int, version: int | None, preset: str | None) -> tuple[int | None, str]:
    """(views version, preset) the label was made on: as given (checked), else the newest shown on the page."""
    if preset and preset not in VIEW_PRESETS:
        raise InvalidInput(f"unknown views preset {preset!r}; choose from {list(VIEW_PRESETS)}")
    for candidate in [preset] if preset else VIEW_PRESETS:
        found = views_artifact(tce_id=tce_id, preset=candidate, version=version)
        if found is not None:
            return found.version, candidate
    if version is not None:
        raise InvalidInput(f"TCE {tce_id} has no views version {version}")
    return None, ""


def state_refresh(*, tce_id: int) -> VettingState:
    """Recompute the TCE's status from each person's newest label and the newest adjudication (lock held).

    adjudicated: an adjudication exists (its label is final); conflict: two decisive labels differ;
    agreed: at least GAIA_LABELS_PER_TCE decisive labels, all equal; else needs_labels. "?" counts as
    having looked, not as a vote.
    """
    labels = current_labels(tce_id=tce_id)
    decisive = [label.label for label in labels if label.label in DECISIVE_LABELS]
    adjudication = adjudication_current(tce_id=tce_id)
    final = ""
    if adjudication is not None:
        status, final = VettingStatus.ADJUDICATED, adjudication.label
    elif len(set(decisive)) > 1:
        status = VettingStatus.CONFLICT
    elif len(decisive) >= settings.GAIA_LABELS_PER_TCE:
        status, final = VettingStatus.AGREED, decisive[0]
    else:
        status = VettingStatus.NEEDS_LABELS
    snr = TCE.objects.filter(pk=tce_id).values_list("snr", flat=True).first()
    state, _ = VettingState.objects.update_or_create(
        tce_id=tce_id,
        defaults={"status": status, "n_labels": len(decisive), "n_people": len(labels), "label": final,
                  "updated_at": timezone.now(), "snr": snr},
    )
    return state


def _release_claims(tce_id: int, user) -> None:  # noqa: ANN001
    VettingClaim.objects.filter(tce_id=tce_id, user=user, released_at__isnull=True).update(released_at=timezone.now())


def label_add(
    *,
    tce: TCE,
    user,  # noqa: ANN001 - a django user
    label: str,
    confidence: str = VettingLabel.Confidence.MEDIUM,
    comment: str = "",
    flags: Iterable[str] = (),
    period: float | None = None,
    epoch: float | None = None,
    duration: float | None = None,
    views_version: int | None = None,
    views_preset: str | None = None,
) -> VettingLabel:
    """Record a person's label (a new row each time; history is kept) and update the TCE's status.

    ``period`` (d), ``epoch`` (the TCE's time system) and ``duration`` (h) propose another ephemeris.
    ``views_version``/``views_preset`` name the views artifact labelled on (default: the newest shown).
    """
    require_level(user, LABEL, "label TCEs")
    if label not in LABEL_ORDER:
        raise InvalidInput(f"unknown label {label!r}; choose from {list(LABEL_ORDER)}")
    if confidence not in VettingLabel.Confidence.values:
        raise InvalidInput(f"unknown confidence {confidence!r}; choose from {VettingLabel.Confidence.values}")
    fields = {
        "label": label, "confidence": confidence, "comment": (comment or "").strip()[:2000],
        "flags": _clean_flags(flags), "period_days": _finite("period", period, positive=True),
        "epoch": _finite("epoch", epoch), "duration_hours": _finite("duration", duration, positive=True),
    }
    if fields["period_days"] and fields["duration_hours"] and fields["duration_hours"] >= 24 * fields["period_days"]:
        raise InvalidInput("the proposed duration must be shorter than the period")
    with transaction.atomic():
        lock_tce(tce.pk)
        fields["views_version"], fields["views_preset"] = _views_used(tce.pk, views_version, views_preset)
        row = VettingLabel.objects.create(tce=tce, user=user, **fields)
        _release_claims(tce.pk, user)
        state_refresh(tce_id=tce.pk)
    return row


def adjudicate(*, tce: TCE, user, label: str, reason: str) -> Adjudication:  # noqa: ANN001
    """An adjudicator's final label for a TCE (the newest adjudication counts), with the reason."""
    require_level(user, ADJUDICATE, "adjudicate TCEs")
    if label not in DECISIVE_LABELS:
        raise InvalidInput(f"an adjudication needs a decisive label, one of {list(DECISIVE_LABELS)}")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("say why: an adjudication needs a reason")
    with transaction.atomic():
        lock_tce(tce.pk)
        row = Adjudication.objects.create(tce=tce, user=user, label=label, reason=reason[:2000])
        _release_claims(tce.pk, user)
        state_refresh(tce_id=tce.pk)
    return row
