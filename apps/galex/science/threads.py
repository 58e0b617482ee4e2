"""The reduction's threads: items made on a background thread ahead of their consumer (image
and movie passes), helper pools for ``--threads``, and work handed to a pool when there is one."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import contextmanager

_DONE = object()


def prefetched(items: Iterator, depth: int) -> Iterator:
    """``items`` produced on a background thread, at most ``depth`` ahead of the consumer.

    Why: binning a frame (Parquet read, projection, numba kernels) and using it (photometry,
    compression, writing) both release the GIL for most of their time, so on two cores they overlap.
    The producer's exception is raised here; a consumer that stops early stops the producer.
    """
    buffer: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                buffer.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    return
            put((_DONE, None))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            put((_DONE, exc))

    worker = threading.Thread(target=produce, name="galex-frames", daemon=True)
    worker.start()
    try:
        while True:
            item, error = buffer.get()
            if item is _DONE:
                if error is not None:
                    raise error
                return
            yield item
    finally:
        stop.set()
        worker.join()


@contextmanager
def helper_pool(workers: int, name: str = "galex") -> Iterator[Executor | None]:
    """``workers`` threads beside this one, or None when there are none (callers then run
    everything here, see :func:`run_on`); work still pending is cancelled on leaving."""
    if workers < 1:
        yield None
        return
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def run_on(pool: Executor | None, fn: Callable, *args) -> Future:  # noqa: ANN002
    """``fn(*args)`` on the pool, or here and now without one (its error raised at once): a
    Future either way, so callers read both the same way."""
    if pool is not None:
        return pool.submit(fn, *args)
    done: Future = Future()
    done.set_result(fn(*args))
    return done
