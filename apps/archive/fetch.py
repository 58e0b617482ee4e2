"""Concurrent, verified, resumable HTTP downloads with aiohttp (no Django here).

:func:`fetch_files` runs an asyncio loop in a background thread and yields :class:`FetchEvent`
objects to the caller's thread, so the caller can write its ledger with the (synchronous) Django
ORM while up to ``concurrency`` requests stream in the background. For every file:

* the body streams to ``<dest>.part``: the event loop only receives bytes; every ``block_bytes``
  (or ``flush_interval_s``, whichever comes first) a file thread appends them and updates the
  sha256, so memory stays bounded whatever the size and the hashing runs beside the network work;
  an existing ``.part`` is resumed with an HTTP ``Range`` request, and a server that ignores the
  range (200 instead of 206) restarts it from byte 0;
* the received length is compared with Content-Length, then the request's ``verify`` callable
  checks the content (FITS structure and checksums for light curves), in the same file-thread
  call as the last write; a file that fails is deleted and fetched again;
* verified files are made durable and renamed into place atomically, in groups (one
  filesystem sync for every file ready at that moment, see :mod:`apps.archive.durable`);
* timeouts, connection errors, 5xx, 408 and 429 are retried with exponential backoff and jitter,
  honouring ``Retry-After``; 404 is reported as ``missing`` and not retried; other 4xx fail at once.

One file's failure never stops the others: each ends with exactly one ``done``, ``missing``,
``failed`` or ``busy`` event (unless the run is cancelled, which leaves ``.part`` files for the next
run). Each step of a transfer is an :class:`_Engine` method (``claim``, ``receive``, ``write``,
``verify``, ``publish``) called through one guard, so an unexpected exception in any of them (a
database restart under the claim, a full disk under the write, a bug) ends that file with a
``failed`` event naming the step and the error, never silently; a failed file's ``.part`` is
deleted (it would only hold stale bytes and disk space).

aiohttp rather than httpx: on the local benchmark httpx spent ~1.9 ms of CPU per 460 kB file just
receiving it (pure-Python HTTP parsing and stream layers), aiohttp ~0.45 ms, so with httpx the
client, not the server, capped a run at ~500 files/s before any hashing or verification.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import queue
import ssl
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import certifi

from apps.archive.durable import BatchPublisher
from apps.archive.transfer import (
    Cancelled,
    Claims,
    FetchError,
    FetchEvent,
    FetchPolicy,
    FetchRequest,
    Missing,
    PartFile,
    Reply,
    Transport,
    VerificationFailed,
    as_fetch_error,
    complete_size,
    content_length,
    content_range_start,
    describe,
    hash_prefix,
    parse_retry_after,
    part_path,
    size_or_zero,
    status_error,
)

__all__ = [
    "FetchEvent",
    "FetchPolicy",
    "FetchRequest",
    "Transport",
    "VerificationFailed",
    "fetch_files",
    "part_path",
    "parse_retry_after",
]

logger = logging.getLogger(__name__)
USER_AGENT = "gaia-web-archive/0.1 (+https://github.com/; aiohttp)"
FILE_THREADS = 3
"""Threads that write, hash and verify files: enough to keep both cores of a small machine busy
beside the event loop (sha256, the write syscalls and numpy release the GIL)."""
UNSETTLED_PER_CONNECTION = 4
"""Verified files that may wait for their filesystem sync, per connection."""
READ_BUFFER = 1 << 18
"""aiohttp's per-connection read buffer: larger than its 64 KiB default, so a 0.5 MB file arrives
in a few reads instead of pausing and resuming the socket eight times."""


def _proxy_configured() -> bool:
    """Honour HTTP(S)_PROXY/ALL_PROXY only when one is set: aiohttp's ``trust_env`` looks up the
    environment and ~/.netrc on every request, which costs measurable CPU per file otherwise."""
    names = ("http_proxy", "https_proxy", "all_proxy")
    return any(os.environ.get(name) or os.environ.get(name.upper()) for name in names)


#: by :meth:`_Engine.step` into a final error that names the step.
_EXPECTED = (FetchError, Missing, Cancelled, aiohttp.ClientError, TimeoutError, ConnectionError)


class _Engine:
    """The asyncio side of :func:`fetch_files` (runs in its own thread and event loop).

    Workers own the connections: each takes the next request, receives and verifies it, hands
    the verified ``.part`` to a settling task (durable rename, ``done`` event, claim release)
    and goes on at once, so waiting for a filesystem sync never leaves a connection idle.

    The steps of a transfer are the methods :meth:`claim`, :meth:`receive`, :meth:`write`,
    :meth:`verify` and :meth:`publish`, always called through :meth:`step` (fault-injection tests
    replace one of them with a function that raises).
    """

    def __init__(
        self,
        policy: FetchPolicy,
        deliver: Callable[[list[FetchEvent]], None],
        cancelled: threading.Event,
        claims: Claims | None = None,
    ):
        self.policy = policy
        self.deliver = deliver
        self.cancelled = cancelled
        self.claims = claims
        self.publisher = BatchPublisher()
        self.files = ThreadPoolExecutor(FILE_THREADS, thread_name_prefix="archive-file")
        self.settling: set[asyncio.Task] = set()
        # verified files waiting for their sync: bounded, so a slow disk slows the downloads
        self.unsettled = asyncio.Semaphore(UNSETTLED_PER_CONNECTION * policy.concurrency)
        self.outbox: list[FetchEvent] = []

    def emit(self, event: FetchEvent) -> None:
        """Queue an event; they reach the consumer once per loop iteration, as one batch, so
        the consumer thread wakes once for many events instead of three times per file."""
        if not self.outbox:
            asyncio.get_running_loop().call_soon(self._flush)
        self.outbox.append(event)

    def _flush(self) -> None:
        if self.outbox:
            batch, self.outbox = self.outbox, []
            self.deliver(batch)

    async def run(self, requests: Iterable[FetchRequest], transport: Transport | None) -> None:
        pending: asyncio.Queue[FetchRequest] = asyncio.Queue()
        for request in requests:
            pending.put_nowait(request)
        n_workers = max(1, min(self.policy.concurrency, pending.qsize()))
        try:
            async with contextlib.AsyncExitStack() as stack:
                if transport is None:
                    transport = await stack.enter_async_context(self._session(n_workers))
                workers = [
                    asyncio.create_task(self._worker(transport, pending)) for _ in range(n_workers)
                ]
                watcher = asyncio.create_task(self._watch_cancel(workers))
                publisher = asyncio.create_task(self.publisher.run())
                try:
                    await asyncio.gather(*workers, return_exceptions=True)
                    while self.settling:
                        await asyncio.gather(*self.settling, return_exceptions=True)
                finally:
                    watcher.cancel()
                    publisher.cancel()
        finally:
            # writes of cancelled transfers finish before the caller looks at the .part files
            self.files.shutdown(wait=True)
            self._flush()

    def _session(self, limit: int) -> aiohttp.ClientSession:
        # loading the CA bundle takes ~30 ms: once per run
        tls = ssl.create_default_context(cafile=certifi.where())
        return aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=limit, ssl=tls, ttl_dns_cache=300),
            timeout=aiohttp.ClientTimeout(
                total=None,
                connect=self.policy.connect_timeout_s,
                sock_read=self.policy.read_timeout_s,
            ),
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"},
            auto_decompress=False,
            read_bufsize=READ_BUFFER,
            trust_env=_proxy_configured(),
        )

    async def _in_thread(self, function: Callable, *args: object) -> object:
        return await asyncio.get_running_loop().run_in_executor(self.files, function, *args)

    async def _watch_cancel(self, workers: list[asyncio.Task]) -> None:
        while not self.cancelled.is_set():
            await asyncio.sleep(0.1)
        for task in workers:  # files already verified still get published (a sync's wait)
            task.cancel()

    # -- the steps of a transfer ------------------------------------------------------------------
    async def step(self, name: str, function: Callable, *args: object) -> object:
        """Run one step; an exception it did not mean to raise becomes a final ``FetchError``
        that names the step, so the file ends ``failed`` with the reason instead of vanishing."""
        try:
            return await function(*args)
        except _EXPECTED:
            raise
        except OSError as exc:  # the disk, not the network (ConnectionError is expected above)
            raise FetchError(f"local file error in {name}: {exc}", retryable=False) from exc
        except Exception as exc:  # noqa: BLE001 - any surprise ends this file, not the run
            raise FetchError(f"{name} failed: {describe(exc)}", retryable=False) from exc

    async def claim(self, request: FetchRequest) -> bool:
        """Take the cross-process claim of a file (True), or see that another run holds it."""
        if self.claims is None:
            return True
        return await asyncio.to_thread(self.claims.acquire, request.key)

    async def write(self, sink: PartFile, blocks: list[bytes]) -> None:
        """Append blocks to the ``.part`` file and the running sha256 (in a file thread)."""
        await self._in_thread(sink.write, blocks)

    async def verify(
        self, sink: PartFile, announced: int | None, verify: Callable[[Path], None] | None
    ) -> None:
        """Check the received length and the content (in a file thread)."""
        await self._in_thread(sink.check, announced, verify)

    async def publish(self, request: FetchRequest) -> None:
        """Make the verified ``.part`` durable and rename it to its final name."""
        await self.publisher.submit(part_path(request.dest), request.dest)

    # -- one file ----------------------------------------------------------------------------------
    async def _worker(self, transport: Transport, pending: asyncio.Queue[FetchRequest]) -> None:
        while not self.cancelled.is_set():
            try:
                request = pending.get_nowait()
            except asyncio.QueueEmpty:
                return
            try:
                await self._fetch_one(transport, request)
            except Exception as exc:  # noqa: BLE001 - last line of defence: report, go on
                logger.exception("download of %s failed unexpectedly", request.url)
                self.emit(
                    FetchEvent(request.key, "failed", error=f"unexpected error: {describe(exc)}")
                )

    async def _fetch_one(self, transport: Transport, request: FetchRequest) -> None:
        try:
            claimed = await self.step("claim", self.claim, request)
        except Exception as exc:  # noqa: BLE001 - not ours: its .part may be another run's
            self.emit(FetchEvent(request.key, "failed", error=str(as_fetch_error(exc, "claim"))))
            return
        if not claimed:
            self.emit(FetchEvent(request.key, "busy"))
            return
        handed_over = False
        try:
            verified = await self._fetch_claimed(transport, request)
            if verified is not None:
                await self.unsettled.acquire()
                task = asyncio.create_task(self._settle(request, verified))
                self.settling.add(task)
                task.add_done_callback(self.settling.discard)
                handed_over = True
        finally:
            if not handed_over:
                await self._release(request)

    async def _release(self, request: FetchRequest) -> None:
        if self.claims is None:
            return
        try:
            await asyncio.to_thread(self.claims.release, request.key)
        except Exception:  # noqa: BLE001 - a lost connection has released its locks already
            logger.warning("could not release the claim of %s", request.url, exc_info=True)

    async def _settle(self, request: FetchRequest, verified: FetchEvent) -> None:
        """Make a verified file durable under its final name, then report it ``done``."""
        try:
            await self.step("publish", self.publish, request)
        except Exception as exc:  # noqa: BLE001 - every file ends with an event
            part_path(request.dest).unlink(missing_ok=True)
            error = as_fetch_error(exc, "publish")
            self.emit(FetchEvent(request.key, "failed", attempt=verified.attempt, error=str(error)))
        else:
            self.emit(verified)
        finally:
            self.unsettled.release()
            await self._release(request)

    async def _fetch_claimed(
        self, transport: Transport, request: FetchRequest
    ) -> FetchEvent | None:
        """Attempts until the ``.part`` is verified (its ``done`` event, not yet emitted) or the
        file ends otherwise (None: ``missing``, ``failed`` or cancelled)."""
        for attempt in range(1, self.policy.max_attempts + 1):
            self.emit(FetchEvent(request.key, "started", attempt=attempt))
            try:
                size, sha256, resumed = await self._transfer(transport, request)
            except Missing:
                self.emit(FetchEvent(request.key, "missing", attempt=attempt, error="HTTP 404"))
                return None
            except Cancelled:
                return None
            except Exception as exc:  # noqa: BLE001 - every error ends as a retry or a failure
                error = as_fetch_error(exc, "transfer", self.policy)
            else:
                return FetchEvent(request.key, "done", attempt, size, sha256, resumed_from=resumed)
            final = not error.retryable or attempt == self.policy.max_attempts
            if error.restart or final:
                part_path(request.dest).unlink(missing_ok=True)
            if final:
                suffix = f" (after {attempt} attempts)" if error.retryable else ""
                self.emit(
                    FetchEvent(request.key, "failed", attempt=attempt, error=f"{error}{suffix}")
                )
                return None
            delay = (
                error.retry_after if error.retry_after is not None else self.policy.backoff(attempt)
            )
            delay = min(delay, self.policy.retry_after_max_s)
            self.emit(
                FetchEvent(
                    request.key, "retrying", attempt=attempt, error=str(error), delay_s=delay
                )
            )
            await asyncio.sleep(delay)
        return None

    async def _transfer(self, transport: Transport, request: FetchRequest) -> tuple[int, str, int]:
        """One attempt: the request, the body into ``.part``, its length and content checked."""
        part = part_path(request.dest)
        offset = size_or_zero(part)
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        async with transport.get(request.url, headers=headers) as reply:
            if reply.status == 416 and offset:
                if complete_size(reply.headers.get("Content-Range")) != offset:
                    raise FetchError(
                        "server refused the resume range",
                        retryable=True,
                        restart=True,
                        retry_after=0,
                    )
                # the whole file was here already (killed before publishing): just verify it
                sink = PartFile(part, await self._in_thread(hash_prefix, part), append=True)
                announced, tail = 0, []
            else:
                sink, offset = await self._open_part(reply, part, offset)
                announced = content_length(reply.headers.get("Content-Length"))
                tail = await self.step("receive", self.receive, reply, sink, request.key)
        if tail:
            await self.step("write", self.write, sink, tail)
            self.emit(FetchEvent(request.key, "progress", nbytes=sum(map(len, tail))))
        await self.step("verify", self.verify, sink, announced, request.verify)
        return offset + sink.size, sink.digest.hexdigest(), offset

    async def _open_part(self, reply: Reply, part: Path, offset: int) -> tuple[PartFile, int]:
        """Where this response's bytes go: appended to ``.part`` (206) or replacing it (200)."""
        if reply.status not in (200, 206):
            raise status_error(reply)
        if reply.status == 200:
            return PartFile(part, hashlib.sha256(), append=False), 0
        if content_range_start(reply.headers.get("Content-Range")) != offset:
            raise FetchError(
                "bad Content-Range on resume", retryable=True, restart=True, retry_after=0
            )
        return PartFile(part, await self._in_thread(hash_prefix, part), append=True), offset

    async def receive(self, reply: Reply, sink: PartFile, key: int) -> list[bytes]:
        """Read the body, handing each full block to a file thread; return the unwritten tail.

        If the body breaks off (or the run is cancelled), what arrived is written before the
        error propagates, so the next attempt or run resumes after it with HTTP Range.
        """
        loop = asyncio.get_running_loop()
        read, block_bytes = reply.content.read, self.policy.block_bytes
        flush_at = loop.time() + self.policy.flush_interval_s
        blocks: list[bytes] = []
        size = 0
        try:
            while chunk := await read(block_bytes):
                blocks.append(chunk)
                size += len(chunk)
                if self.cancelled.is_set():
                    raise Cancelled()
                if size >= block_bytes or loop.time() >= flush_at:
                    handed, blocks, size = blocks, [], 0
                    await self.step("write", self.write, sink, handed)
                    self.emit(FetchEvent(key, "progress", nbytes=sum(map(len, handed))))
                    flush_at = loop.time() + self.policy.flush_interval_s
        except BaseException:
            # Only unhanded blocks are written here, so no file thread holds this file now; a
            # short blocking write on the loop is fine on this rare path.
            if blocks:
                with contextlib.suppress(OSError):
                    sink.write(blocks)
                    self.emit(FetchEvent(key, "progress", nbytes=size))
            raise
        return blocks



_DONE = object()


@dataclass(frozen=True)
class _Crash:
    error: BaseException


def fetch_files(
    requests: Iterable[FetchRequest],
    policy: FetchPolicy | None = None,
    *,
    transport: Transport | None = None,
    claims: Claims | None = None,
) -> Iterator[FetchEvent]:
    """Fetch every request concurrently; yield events in the caller's thread as they happen.

    Closing the iterator early (or an exception in the consumer) cancels the run: requests in
    flight stop at their next read and keep their ``.part`` files for a later resume.

    Parameters
    ----------
    requests : iterable of FetchRequest
        Files to fetch; keys must be unique.
    policy : FetchPolicy, optional
        Concurrency, retries, timeouts (defaults: 16 in flight, 5 attempts).
    transport : Transport, optional
        Replaces the network, e.g. :class:`apps.archive.mirror.MirrorTransport` for a local mirror.
    claims : Claims, optional
        Keeps two runs off the same file (and its ``.part``): a file whose claim another run holds
        ends with a ``busy`` event and is left alone.
    """
    policy = policy or FetchPolicy()
    events: queue.SimpleQueue = queue.SimpleQueue()
    cancelled = threading.Event()
    request_list = list(requests)

    def run() -> None:
        try:
            engine = _Engine(policy, events.put, cancelled, claims)
            asyncio.run(engine.run(request_list, transport))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer thread
            events.put(_Crash(exc))
        finally:
            events.put(_DONE)

    thread = threading.Thread(target=run, name="archive-fetch", daemon=True)
    thread.start()
    try:
        while True:
            batch = events.get()
            if batch is _DONE:
                break
            if isinstance(batch, _Crash):
                raise RuntimeError(f"download engine crashed: {batch.error!r}") from batch.error
            yield from batch
    finally:
        cancelled.set()
        thread.join()
