"""``prefetched``: frames binned ahead on a second thread arrive in order, errors surface, an early
stop ends the producer. ``FrameFeed``: each movie frame measured once, wherever it is measured."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import pytest

from apps.galex.science.imaging.prefetch import prefetched
from apps.galex.science.leg_photometry import FrameFeed


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
    """Stands in for a leg's photometry: records what each frame held and on which thread."""

    def __init__(self) -> None:
        self.frames: dict[int, tuple[float, int]] = {}
        self.threads: set[str] = set()

    def add_frame(self, k: int, count: np.ndarray, flag: np.ndarray) -> None:
        time.sleep(0.002)
        self.frames[k] = (float(count.sum()), int(flag.astype(np.int64).sum()))
        self.threads.add(threading.current_thread().name)


def frame(k: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(k)
    count = np.where(rng.random((40, 50)) < 0.05, rng.random((40, 50)), 0).astype(np.float32)
    flag = (rng.random((40, 50)) < 0.01).astype(np.uint8) * 4
    return count, flag


@pytest.mark.parametrize("detected_after", [0, 7, 30])
def test_the_frame_feed_measures_every_frame_once_whenever_the_sources_are_known(detected_after):
    """Frames that come before the detection is done wait sparse; every frame is measured once, with
    its own pixels, on the pool or here, whichever is free."""
    recorder, detection = FrameRecorder(), Future()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pool") as pool:
        feed = FrameFeed(detection, pool, (40, 50))
        for k in range(30):
            if k == detected_after:
                detection.set_result(recorder)
            feed.add(k, *frame(k))
        if not detection.done():
            detection.set_result(recorder)
        feed.finish()
    expected = {k: (float(c.sum()), int(f.astype(np.int64).sum())) for k, (c, f) in ((k, frame(k)) for k in range(30))}
    assert recorder.frames == expected
    if detected_after < 30:
        assert any(name.startswith("pool") for name in recorder.threads), recorder.threads


def test_without_a_pool_the_feed_measures_each_frame_as_it_comes():
    recorder, detection = FrameRecorder(), Future()
    detection.set_result(recorder)
    feed = FrameFeed(detection, None, (40, 50))
    feed.add(0, *frame(0))
    assert recorder.frames == {0: (float(frame(0)[0].sum()), int(frame(0)[1].astype(np.int64).sum()))}
    assert recorder.threads == {threading.current_thread().name}
