"""Query helpers shared by the apps' selectors."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import Model, QuerySet

from apps.core.errors import InvalidInput


def filter_given(queryset: QuerySet, **lookups: object) -> QuerySet:
    """Filter by each lookup whose value was given: list filters treat None, "" (an empty form
    field) and 0 alike as "any", so only a truthy value narrows the rows."""
    given = {lookup: value for lookup, value in lookups.items() if value}
    return queryset.filter(**given) if given else queryset


def rows_by_ids(queryset: QuerySet, ids: Sequence[int], *, noun: str) -> list[Model]:
    """The rows of ``queryset`` with these primary keys, in no particular order.

    Raises InvalidInput naming the ids that match no row ("target ids [..] do not exist"), so a
    request never silently drops one.
    """
    rows = list(queryset.filter(pk__in=list(ids)))
    missing = set(ids) - {row.pk for row in rows}
    if missing:
        raise InvalidInput(f"{noun} ids {sorted(missing)} do not exist")
    return rows
