"""List pagination for the API and the pages: offsets bounded, totals counted up to a cap.

An exact ``count(*)`` of a 500k-row table reads every row on every request; lists count at most
``COUNT_CAP`` rows (walking the same index the page itself reads) and say "1,000+" beyond that.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import Any

from django.core.paginator import Paginator
from django.db.models import QuerySet
from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination as NinjaLimitOffsetPagination

#: Largest ``offset`` a list accepts; beyond it PostgreSQL's OFFSET would overflow or crawl.
MAX_OFFSET = 10_000_000
#: Lists count their rows up to this many; beyond it the total is shown as "1,000+" (as the vetting queues do).
COUNT_CAP = 1_000


def capped_count(rows: Any, cap: int = COUNT_CAP) -> tuple[int, bool]:
    """(number of rows, at most ``cap``; whether there are more) of a queryset, a MappedRows or a list."""
    if isinstance(rows, MappedRows):
        rows = rows.queryset
    # COUNT(*) over the first cap + 1 rows in the list's own order: an index walk that stops.
    n = rows[: cap + 1].count() if isinstance(rows, QuerySet) else len(rows)
    return min(n, cap), n > cap


class MappedRows:
    """A queryset whose page is turned into payloads only once sliced (one query for the page)."""

    def __init__(self, queryset: QuerySet, convert: Callable[[list], list]) -> None:
        self.queryset = queryset
        self.convert = convert

    def __getitem__(self, index: slice) -> list:
        return self.convert(list(self.queryset[index]))


class CappedPaginator(Paginator):
    """Django's paginator with the total counted up to ``COUNT_CAP`` (``capped`` says there are more)."""

    @cached_property
    def _capped(self) -> tuple[int, bool]:
        return capped_count(self.object_list)

    @cached_property
    def count(self) -> int:  # type: ignore[override]
        return self._capped[0]

    @property
    def capped(self) -> bool:
        return self._capped[1]


class LimitOffsetPagination(NinjaLimitOffsetPagination):
    class Input(NinjaLimitOffsetPagination.Input):
        offset: int = Field(0, ge=0, le=MAX_OFFSET)

    class Output(Schema):
        items: list[Any]
        count: int = Field(..., description=f"rows matching, counted up to {COUNT_CAP:,}")
        count_capped: bool = Field(False, description=f"true when more than {COUNT_CAP:,} rows match")

    def paginate_queryset(self, queryset, pagination, request, **params):  # noqa: ANN001, ANN201
        offset = pagination.offset
        limit = min(pagination.limit, self.max_limit)
        count, capped = capped_count(queryset)
        return {self.items_attribute: queryset[offset : offset + limit], "count": count, "count_capped": capped}
