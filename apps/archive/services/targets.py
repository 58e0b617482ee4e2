"""Bulk create/update of Targets from catalogue rows or light-curve headers."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from django.utils import timezone

from apps.archive.services.bulk import copy_upsert
from apps.catalog.models import Target

STELLAR_FIELDS = ("ra", "dec", "magnitude", "teff", "logg", "metallicity", "radius", "mass")
_UPDATE_FIELDS = [
    *STELLAR_FIELDS,
    "name",
    "aliases",
    "search_names",
    "stellar_source",
    "updated_at",
]
_FIELDS = ["mission", "identifier", *_UPDATE_FIELDS, "created_at"]
_CHUNK = 5000


def _number(value: object) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _in_range(field: str, value: float) -> bool:
    if field == "ra":
        return 0.0 <= value < 360.0
    if field == "dec":
        return -90.0 <= value <= 90.0
    return True


def _merge(target: Target, row: dict, *, stellar_source: str | None, fill_only: bool) -> bool:
    """Apply one row to a target; True when something changed."""
    changed = False
    filled = False
    for field in STELLAR_FIELDS:
        value = _number(row.get(field))
        if value is None or not _in_range(field, value):
            continue
        current = getattr(target, field)
        if current is None or (not fill_only and current != value):
            setattr(target, field, value)
            changed = filled = True
    if filled and stellar_source and (not fill_only or not target.stellar_source):
        target.stellar_source = stellar_source[:64]
    name = row.get("name")
    if isinstance(name, str) and name and not target.name:
        target.name, changed = name[:64], True
    new_aliases = [a[:64] for a in row.get("aliases") or [] if a and a not in target.aliases]
    if new_aliases:
        target.aliases = [*target.aliases, *new_aliases]
        changed = True
    return changed


def _existing(mission: str, identifiers: Sequence[str]) -> dict[str, Target]:
    found: dict[str, Target] = {}
    for start in range(0, len(identifiers), _CHUNK):
        chunk = identifiers[start : start + _CHUNK]
        for target in Target.objects.filter(mission=mission, identifier__in=chunk):
            found[target.identifier] = target
    return found


def targets_upsert(
    *,
    mission: str,
    rows: Iterable[dict],
    stellar_source: str | None = None,
    fill_only: bool = False,
) -> tuple[dict[str, int], dict[str, int]]:
    """Create missing targets and apply names, aliases and stellar parameters to all of them.

    Parameters
    ----------
    mission : str
        Mission of every row.
    rows : iterable of dict
        ``identifier`` (number) plus any of the stellar fields (NaN/None = unknown), ``name``
        and ``aliases``. Later rows for the same identifier are merged into earlier ones.
    stellar_source : str, optional
        Recorded on targets whose stellar parameters this call sets.
    fill_only : bool
        Only fill parameters a target does not have yet (light-curve headers); catalogue imports
        overwrite (the catalogue is the better source).

    Returns
    -------
    ids : dict
        identifier (str) -> Target primary key, for every row.
    counts : dict
        ``created`` and ``updated`` target counts.
    """
    by_id: dict[str, dict] = {}
    for row in rows:
        key = str(int(row["identifier"]))
        by_id.setdefault(key, {}).update({k: v for k, v in row.items() if v is not None})
    existing = _existing(mission, list(by_id))
    to_save: list[Target] = []
    for key, row in by_id.items():
        target = existing.get(key)
        if target is None:
            target = Target(mission=mission, identifier=key, aliases=[])
            _merge(target, row, stellar_source=stellar_source, fill_only=fill_only)
        elif not _merge(target, row, stellar_source=stellar_source, fill_only=fill_only):
            continue
        target.refresh_search_names()
        to_save.append(target)
    now = timezone.now()
    result = copy_upsert(
        model=Target,
        fields=_FIELDS,
        rows=([getattr(t, name) for name in _FIELDS[:-2]] + [now, now] for t in to_save),
        conflict=["mission", "identifier"],
        update=_UPDATE_FIELDS,
        returning=["id", "identifier"],
    )
    ids = {key: target.pk for key, target in existing.items()}
    ids.update({identifier: pk for pk, identifier, _inserted in result})
    created = sum(1 for *_rest, inserted in result if inserted)
    return ids, {"created": created, "updated": len(result) - created}
