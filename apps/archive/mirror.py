"""A local mirror of the archive answering like the network, so offline runs use the download code path.

:class:`MirrorTransport` answers the same URLs as MAST from a folder: either laid out like the
archive (``missions/kepler/lightcurves/0114/011442793/kplr...fits``, ``missions/tess/...``) or a
flat folder (or tree) of original file names, such as the demo data. Requests get 200 with
Content-Length, 206 for ``Range`` requests, or 404, exactly like the real service, so the ledger,
verification, resume and ingest behave identically. It implements the small
:class:`apps.archive.fetch.Transport` interface (``get(url, headers=...)``) that an aiohttp
session also has. No Django here.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO
from urllib.parse import parse_qs, urlsplit

_SUFFIXES = (".fits", ".fits.gz", ".sh", ".csv")


class _FileBody:
    """``read(n)`` over a byte range of a local file, like an HTTP body stream."""

    def __init__(self, handle: BinaryIO | None, length: int) -> None:
        self.handle, self.remaining = handle, length

    async def read(self, n: int = -1) -> bytes:
        if self.handle is None or self.remaining <= 0:
            return b""
        block = self.handle.read(self.remaining if n < 0 else min(n, self.remaining))
        self.remaining -= len(block)
        return block


@dataclass
class MirrorReply:
    """A response of the mirror: status, headers and a body to ``read``."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    content: _FileBody = field(default_factory=lambda: _FileBody(None, 0))


class MirrorTransport:
    """Serve archive URLs from a local folder (archive layout or flat file names)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise FileNotFoundError(f"mirror folder {self.root} does not exist")
        self._by_name: dict[str, Path] | None = None

    def resolve(self, url: str) -> Path | None:
        """The local file for an archive URL, or None when the mirror lacks it."""
        parts = urlsplit(url)
        uri = parse_qs(parts.query).get("uri", [""])[0]
        relative = uri.split("/url/", 1)[1] if "/url/" in uri else parts.path.lstrip("/")
        candidate = (self.root / relative).resolve()
        if self.root.resolve() in candidate.parents and candidate.is_file():
            return candidate
        name = (uri or parts.path).rsplit("/", 1)[-1]
        return self._index().get(name)

    def _index(self) -> dict[str, Path]:
        if self._by_name is None:
            index: dict[str, Path] = {}
            for folder, _dirs, files in os.walk(self.root):
                for name in files:
                    if name.endswith(_SUFFIXES):
                        index.setdefault(name, Path(folder) / name)
            self._by_name = index
        return self._by_name

    @contextlib.asynccontextmanager
    async def get(self, url: str, *, headers: Mapping[str, str]) -> AsyncIterator[MirrorReply]:
        """Answer a GET like the archive would (the file is open only inside the block)."""
        path = self.resolve(url)
        if path is None:
            yield MirrorReply(404)
            return
        size = path.stat().st_size
        start = _range_start(headers.get("Range"))
        if start is not None and start >= size and start > 0:
            yield MirrorReply(416, {"Content-Range": f"bytes */{size}"})
            return
        with open(path, "rb") as handle:
            if not start:
                answer = {"Content-Length": str(size), "Accept-Ranges": "bytes"}
                yield MirrorReply(200, answer, _FileBody(handle, size))
                return
            handle.seek(start)
            answer = {
                "Content-Length": str(size - start),
                "Content-Range": f"bytes {start}-{size - 1}/{size}",
                "Accept-Ranges": "bytes",
            }
            yield MirrorReply(206, answer, _FileBody(handle, size - start))


def _range_start(value: str | None) -> int | None:
    if not value or not value.startswith("bytes=") or "," in value:
        return None
    first = value[6:].split("-", 1)[0]
    return int(first) if first.isdigit() else None
