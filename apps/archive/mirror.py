"""A local mirror of the archive served through httpx, so offline runs use the download code path.

:class:`MirrorTransport` answers the same URLs as MAST from a folder: either laid out like the
archive (``missions/kepler/lightcurves/0114/011442793/kplr...fits``, ``missions/tess/...``) or a
flat folder (or tree) of original file names, such as the demo data. Requests get 200 with
Content-Length, 206 for ``Range`` requests, or 404, exactly like the real service, so the ledger,
verification, resume and ingest behave identically. No Django here.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs

import httpx

_SUFFIXES = (".fits", ".fits.gz", ".sh", ".csv")


class _FileStream(httpx.AsyncByteStream):
    def __init__(self, path: Path, start: int, length: int, chunk: int = 1 << 16) -> None:
        self.path, self.start, self.length, self.chunk = path, start, length, chunk

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with open(self.path, "rb") as handle:
            handle.seek(self.start)
            remaining = self.length
            while remaining > 0:
                block = handle.read(min(self.chunk, remaining))
                if not block:
                    return
                remaining -= len(block)
                yield block


class MirrorTransport(httpx.AsyncBaseTransport):
    """Serve archive URLs from a local folder (archive layout or flat file names)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise FileNotFoundError(f"mirror folder {self.root} does not exist")
        self._by_name: dict[str, Path] | None = None

    def resolve(self, url: httpx.URL) -> Path | None:
        """The local file for an archive URL, or None when the mirror lacks it."""
        uri = parse_qs(url.query.decode()).get("uri", [""])[0]
        relative = uri.split("/url/", 1)[1] if "/url/" in uri else url.path.lstrip("/")
        candidate = (self.root / relative).resolve()
        if self.root.resolve() in candidate.parents and candidate.is_file():
            return candidate
        name = (uri or url.path).rsplit("/", 1)[-1]
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

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = self.resolve(request.url)
        if path is None:
            return httpx.Response(404, content=b"not in mirror", request=request)
        size = path.stat().st_size
        start = _range_start(request.headers.get("Range"))
        if start is None or start == 0:
            headers = {"Content-Length": str(size), "Accept-Ranges": "bytes"}
            return httpx.Response(
                200, headers=headers, stream=_FileStream(path, 0, size), request=request
            )
        if start >= size:
            return httpx.Response(
                416, headers={"Content-Range": f"bytes */{size}"}, request=request
            )
        headers = {
            "Content-Length": str(size - start),
            "Content-Range": f"bytes {start}-{size - 1}/{size}",
            "Accept-Ranges": "bytes",
        }
        return httpx.Response(
            206, headers=headers, stream=_FileStream(path, start, size - start), request=request
        )


def _range_start(value: str | None) -> int | None:
    if not value or not value.startswith("bytes=") or "," in value:
        return None
    first = value[6:].split("-", 1)[0]
    return int(first) if first.isdigit() else None
