"""Query helpers shared by the apps' selectors."""

from __future__ import annotations

from django.db.models import QuerySet


def filter_given(queryset: QuerySet, **lookups: object) -> QuerySet:
    """Filter by each lookup whose value was given: list filters treat None, "" (an empty form
    field) and 0 alike as "any", so only a truthy value narrows the rows."""
    given = {lookup: value for lookup, value in lookups.items() if value}
    return queryset.filter(**given) if given else queryset
