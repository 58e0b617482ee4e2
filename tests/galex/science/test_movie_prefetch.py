"""``prefetched``: frames binned ahead on a second thread arrive in order, errors surface, an early
stop ends the producer."""

from __future__ import annotations

import threading

import pytest

from apps.galex.science.imaging.movie import prefetched


def test_items_arrive_in_order_and_all_of_them():
    assert list(prefetched(iter(range(1000)), depth=2)) == list(range(1000))


def test_the_producers_error_is_raised_to_the_consumer_after_the_items_before_it():
    def items():
        yield from (1, 2)
        raise ValueError("corrupt batch")

    seen = []
    with pytest.raises(ValueError, match="corrupt batch"):
        for item in prefetched(items(), depth=2):
            seen.append(item)
    assert seen == [1, 2]


def test_a_consumer_that_stops_early_stops_the_producer():
    produced = []

    def items():
        for i in range(10_000):
            produced.append(i)
            yield i

    before = threading.active_count()
    stream = prefetched(items(), depth=2)
    assert [next(stream) for _ in range(3)] == [0, 1, 2]
    stream.close()  # the consumer leaves (an exception, a cancel): the producer thread is joined
    assert threading.active_count() == before
    assert len(produced) < 10  # it never ran far ahead of the consumer
