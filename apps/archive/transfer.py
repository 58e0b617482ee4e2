"""The pieces of one HTTP file transfer that hold no event loop: requests, policy, events,
the errors a reply maps to, and the ``.part`` file a body is appended and hashed into.

:mod:`apps.archive.fetch` runs transfers with them (no Django here either).
"""

from __future__ import annotations

import email.utils
import hashlib
import os
import random
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import aiohttp

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


class VerificationFailed(Exception):
    """Raised by a ``verify`` callable: the bytes arrived but are not the expected content."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class FetchRequest:
    """One file to fetch: the caller's key (e.g. a ledger row id), the URL and where it goes."""

    key: int
    url: str
    dest: Path
    verify: Callable[[Path], None] | None = None


@dataclass(frozen=True)
class FetchPolicy:
    """Concurrency, retry, timeout and buffering settings of a run.

    ``block_bytes`` bounds the memory of a transfer (16 in flight hold at most 16 blocks) and
    ``flush_interval_s`` bounds what a kill loses on a slow link: while data arrives, it reaches
    the ``.part`` file (and so a later Range resume) at least that often. A body that breaks off
    or a cancelled run writes what it holds at once.
    """

    concurrency: int = 16
    max_attempts: int = 5
    backoff_base_s: float = 1.0
    backoff_max_s: float = 60.0
    retry_after_max_s: float = 300.0
    connect_timeout_s: float = 15.0
    read_timeout_s: float = 60.0
    block_bytes: int = 1 << 20
    flush_interval_s: float = 0.25

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with "equal jitter": half fixed, half random, capped."""
        ceiling = min(self.backoff_max_s, self.backoff_base_s * 2 ** (attempt - 1))
        return ceiling / 2 + random.uniform(0, ceiling / 2)


class Claims(Protocol):
    """Optional cross-process exclusion: a file is fetched only while its claim is held."""

    def acquire(self, key: int) -> bool: ...

    def release(self, key: int) -> None: ...


class Body(Protocol):
    """A response body: ``read(n)`` gives up to ``n`` bytes, ``b""`` at the end."""

    async def read(self, n: int = -1) -> bytes: ...


class Reply(Protocol):
    """What the engine reads of a response (an ``aiohttp.ClientResponse`` is one)."""

    status: int
    headers: Mapping[str, str]
    content: Body


class Transport(Protocol):
    """Where requests go: an ``aiohttp.ClientSession``, or a stand-in such as the local mirror
    (:class:`apps.archive.mirror.MirrorTransport`) that answers from files."""

    def get(
        self, url: str, *, headers: Mapping[str, str]
    ) -> AbstractAsyncContextManager[Reply]: ...


@dataclass(frozen=True)
class FetchEvent:
    """What happened to one file. ``kind`` is one of
    started, progress, retrying, done, missing, failed, busy (claimed by another run)."""

    key: int
    kind: str
    attempt: int = 0
    nbytes: int = 0
    sha256: str = ""
    error: str = ""
    delay_s: float = 0.0
    resumed_from: int = 0


class FetchError(Exception):
    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        restart: bool = False,
        retry_after: float | None = None,
    ):
        super().__init__(message)
        self.retryable = retryable
        self.restart = restart
        self.retry_after = retry_after


class Missing(Exception):
    pass


class Cancelled(Exception):
    pass


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc or 'no detail'}"


def part_path(dest: Path) -> Path:
    """Where a partial download of ``dest`` lives between runs (resumed with HTTP Range)."""
    return dest.with_name(dest.name + ".part")


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def content_range_start(value: str | None) -> int | None:
    # "bytes 1000-4999/5000" -> 1000
    if not value or not value.startswith("bytes "):
        return None
    try:
        return int(value[6:].split("-", 1)[0])
    except ValueError:
        return None


def complete_size(value: str | None) -> int | None:
    # "bytes */5000" (the answer to a range that starts at the end) -> 5000
    if not value or not value.startswith("bytes */"):
        return None
    size = value[8:]
    return int(size) if size.isdigit() else None


def status_error(reply: Reply) -> Exception:
    status = reply.status
    if status == 404:
        return Missing()
    if status in RETRY_STATUSES:
        return FetchError(
            f"HTTP {status}",
            retryable=True,
            retry_after=parse_retry_after(reply.headers.get("Retry-After")),
        )
    return FetchError(f"HTTP {status} (not retried)", retryable=False)


def network_error(exc: BaseException, policy: FetchPolicy) -> FetchError:
    """A retryable error with a message that says which limit or failure it was."""
    if isinstance(exc, aiohttp.InvalidURL):
        return FetchError(f"invalid URL: {exc}", retryable=False)
    if isinstance(exc, aiohttp.SocketTimeoutError):
        message = f"ReadTimeout: no data for {policy.read_timeout_s:g} s"
    elif isinstance(exc, aiohttp.ConnectionTimeoutError):
        message = f"ConnectTimeout: no connection within {policy.connect_timeout_s:g} s"
    else:
        message = f"{type(exc).__name__}: {exc or 'no detail'}"
    return FetchError(message, retryable=True)


def size_or_zero(path: Path) -> int:
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return 0


def hash_prefix(path: Path) -> hashlib._Hash:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest


class PartFile:
    """The ``.part`` file of one response, appended and hashed in a file thread.

    Each :meth:`write` opens, appends and closes, so no file handle outlives a call and a
    cancelled run never leaves a thread writing through a handle that the loop has closed.
    """

    __slots__ = ("path", "digest", "mode", "size")

    def __init__(self, path: Path, digest: hashlib._Hash, *, append: bool) -> None:
        self.path = path
        self.digest = digest
        self.mode = "ab" if append else "wb"
        self.size = 0  # bytes of this response written so far

    def write(self, blocks: list[bytes]) -> None:
        try:
            handle = open(self.path, self.mode)  # noqa: SIM115 - closed just below
        except FileNotFoundError:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = open(self.path, self.mode)  # noqa: SIM115
        with handle:
            for block in blocks:
                handle.write(block)
                self.digest.update(block)
                self.size += len(block)
        self.mode = "ab"

    def check(self, announced: int | None, verify: Callable[[Path], None] | None) -> None:
        """Check the length received and the content."""
        if announced is not None and self.size != announced:
            raise FetchError(f"body ended after {self.size} of {announced} bytes", retryable=True)
        if verify is not None:
            try:
                verify(self.path)
            except VerificationFailed as exc:
                raise FetchError(
                    f"verification failed: {exc}", retryable=exc.retryable, restart=True
                ) from exc


def as_fetch_error(
    exc: BaseException, step: str, policy: FetchPolicy | None = None
) -> FetchError:
    """Any exception of a transfer as a ``FetchError``: network errors are retried, local file
    errors (a full disk) and surprises are final, with a message that says what happened."""
    if isinstance(exc, FetchError):
        return exc
    if isinstance(exc, (aiohttp.ClientError, TimeoutError, ConnectionError)):
        return network_error(exc, policy or FetchPolicy())
    if isinstance(exc, OSError):
        return FetchError(f"local file error: {exc}", retryable=False)
    return FetchError(f"{step} failed: {describe(exc)}", retryable=False)


def content_length(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() else None
