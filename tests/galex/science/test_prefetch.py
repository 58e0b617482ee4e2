"""``prefetched``: frames binned ahead on a second thread arrive in order, errors surface, an early
stop ends the producer. ``FrameFeed``: each movie frame measured once, held sparse until the
sources are known."""

from __future__ import annotations

import threading
from concurrent.futures import Future

import numpy as np
import pytest

from apps.galex.science.leg_photometry import FrameFeed, sparse_nonzero
from apps.galex.science.threads import prefetched


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


class FrameRecorder:
    """Stands in for a leg's photometry: records what each frame held."""

    def __init__(self) -> None:
        self.frames: dict[int, tuple[float, int, int]] = {}

    def add_frame(self, k: int, count: np.ndarray, flag: np.ndarray) -> None:
        assert k not in self.frames, f"frame {k} measured twice"
        self.frames[k] = (float(count.sum()), int(flag.astype(np.int64).sum()), int(np.count_nonzero(count)))


def frame(k: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(k)
    count = np.where(rng.random((40, 50)) < 0.05, rng.random((40, 50)), 0).astype(np.float32)
    flag = (rng.random((40, 50)) < 0.01).astype(np.uint8) * 4
    return count, flag


@pytest.mark.parametrize("detected_after", [0, 7, 30])
def test_the_frame_feed_measures_every_frame_once_whenever_the_sources_are_known(detected_after):
    """Frames that come before the detection is done wait sparse; every frame is measured once,
    with its own pixels (the held frames share one pair of planes, cleared between frames)."""
    recorder, detection = FrameRecorder(), Future()
    feed = FrameFeed(detection, (40, 50))
    for k in range(30):
        if k == detected_after:
            detection.set_result(recorder)
        feed.add(k, *frame(k))
    assert len(recorder.frames) == (30 if detected_after < 30 else 0)  # the held ones go with the first after
    if not detection.done():
        detection.set_result(recorder)
    feed.finish()
    expected = {k: (float(c.sum()), int(f.astype(np.int64).sum()), int(np.count_nonzero(c)))
                for k, (c, f) in ((k, frame(k)) for k in range(30))}  # fmt: skip
    assert recorder.frames == expected


def test_an_abandoned_feed_drops_what_it_holds():
    recorder, detection = FrameRecorder(), Future()
    feed = FrameFeed(detection, (40, 50))
    feed.add(0, *frame(0))
    feed.abandon()
    detection.set_result(recorder)
    feed.finish()
    assert recorder.frames == {}


@pytest.mark.parametrize("dtype", [np.float32, np.uint8, np.float64])
def test_sparse_nonzero_is_flatnonzero_and_a_gather(dtype):
    rng = np.random.default_rng(11)
    values = np.where(rng.random((37, 41)) < 0.1, rng.integers(1, 9, (37, 41)), 0).astype(dtype)
    values[0, 0], values[-1, -1] = 3, 5  # the first and last elements count
    where, kept = sparse_nonzero(values)
    np.testing.assert_array_equal(where, np.flatnonzero(values))
    np.testing.assert_array_equal(kept, values.reshape(-1)[np.flatnonzero(values)])
    assert where.dtype == np.int32 and kept.dtype == values.dtype
    empty = sparse_nonzero(np.zeros((3, 3), dtype))
    assert empty[0].size == 0 and empty[1].size == 0
