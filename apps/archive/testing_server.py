"""A real HTTP server that plays MAST and the Exoplanet Archive for tests, benchmarks and drills.

Not used by the site itself: the tests (``tests/archive``), the download benchmark and
``manage.py fault_drill --kind download`` start it on loopback. No Django here.

It listens on 127.0.0.1 (an ephemeral port) and serves the demo files of ``../shared/data`` at
the archive's URL layout:

* ``/api/v0.1/Download/file?uri=mast:Kepler/url/.../<file>`` and ``.../file/?uri=mast:TESS/product/<file>``
  (200 with Content-Length, 206 for ``Range: bytes=N-`` when ranges are on, 404 otherwise);
* ``/missions/tess/download_scripts/sector/tesscurl_sector_<N>_lc.sh``, listing the demo TESS
  files of that sector (404 for sectors without any);
* ``/TAP/sync?query=select [top N] * from <table>&format=csv`` for the local catalogue exports;
* GALEX (files given with :meth:`FakeArchive.add_galex`): gPhoton 2's MAST query
  ``/portal/Mashup/MashupQuery.asmx/GalexPhotonListQueryTest?query=spGetRawUrls <N>&format=extjs``
  answering ``{"status": "COMPLETE", "data": {"Tables": [{"Rows": [[N, "NUV"|"FUV"|"BOTH", url]]}]}}``
  (``galex_executing`` answers "EXECUTING" first, that many times), and the files at the direct
  layout of gPhoton's older code, ``/gPhoton/RAW6/e{lo}_{lo+99}/{N:05}/<file>`` (with faults and
  ranges like every file).

Faults are queued per file name and consumed one per request, so a test can say "the first two
requests for this file fail with 500, the third succeeds":

=========== ==================================================================================
``status``  answer ``code`` (e.g. 500, 403, 429 with ``retry_after``) instead of the file
``cut``     promise the full length, send ``fraction`` of the body, then drop the connection
``truncate`` announce and send only ``fraction`` of the body, cleanly (looks complete)
``flip``    send the full body with one byte changed (a checksum mismatch)
``slow``    send the body in 16 kB chunks with ``delay`` seconds between chunks
``hang``    wait ``delay`` seconds before answering (client read timeouts)
=========== ==================================================================================

``chunk_delay_s`` slows every body (resume tests), and ``supports_range = False`` makes the
server ignore Range headers like some mirrors do. Every request is logged in ``log``.

Usage::

    with FakeArchive(demo_data) as archive:
        archive.add_fault("kplr...fits", "status", code=500)
        ... settings.GAIA_MAST_URL = archive.url ...

``python -m apps.archive.testing_server --port 8765`` runs it stand-alone (for benchmarks).
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

CHUNK = 16 * 1024
TESS_NAME = re.compile(r"^tess\d{13}-s(\d{4})-(\d{16})-\d{4}-[a-z]_lc\.fits$")
TAP_QUERY = re.compile(r"^\s*select\s+(?:top\s+(\d+)\s+)?\*\s+from\s+(\w+)\s*$", re.IGNORECASE)

#: TAP table -> local export (under the demo folder's catalogs/).
TAP_TABLES = {
    "q1_q17_dr24_tce": "q1_q17_dr24_tce_2020.01.28_08.52.13.csv",
    "q1_q17_dr25_koi": "q1_q17_dr25_koi.csv",
    "cumulative": "q1_q17_dr25_koi.csv",
}

#: A TOI answer for the two demo TESS stars. Values from the public TOI catalogue (TOI-114.01 =
#: WASP-126 b, TOI-102.01 = WASP-46 b); only the normalisation path is tested with it.
TOI_CSV = (
    "toi,tid,tfopwg_disp,pl_orbper,pl_tranmid,pl_trandurh,pl_trandep,st_teff,st_logg,st_rad,st_tmag,ra,dec\n"
    "114.01,25155310,KP,3.2888,2458328.2233,3.19,6900,5800,4.4,1.27,10.6,90.3928,-69.2186\n"
    "102.01,231663901,KP,1.4304,2458325.8037,1.72,21000,5600,4.5,0.92,11.9,318.7367,-55.8718\n"
)


@dataclass
class Fault:
    kind: str
    code: int = 500
    retry_after: str | None = None
    fraction: float = 0.5
    delay: float = 0.0


@dataclass
class Logged:
    path: str
    filename: str
    range: str | None
    status: int
    at: float = field(default_factory=time.monotonic)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog of 5 drops SYNs when 16 clients connect at once, and
    # the kernel retries them only after 1 s: a stall that belongs to no client
    request_queue_size = 128

    def handle_error(self, request: object, client_address: object) -> None:
        return  # clients that give up mid-body (cancel, timeout tests) are expected here


class FakeArchive:
    """The server; start with :meth:`start` (or a ``with`` block), stop with :meth:`stop`."""

    def __init__(self, demo_dir: Path, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.demo_dir = Path(demo_dir)
        self.files = {
            p.name: p
            for folder in ("kepler", "k2", "tess")
            for p in (self.demo_dir / folder).glob("*.fits")
        }
        self.faults: dict[str, list[Fault]] = defaultdict(list)
        self.galex: dict[int, list[tuple[str, str]]] = defaultdict(list)  # eclipse -> (kind, name)
        self.galex_executing = 0
        self.galex_mislabel = False  # list URLs with the ".gz.gz" MAST mislabel gPhoton 2 fixes
        self.log: list[Logged] = []
        self.supports_range = True
        self.chunk_delay_s = 0.0
        self._lock = threading.Lock()
        self._server = _QuietServer((host, port), _handler_for(self))
        self._thread: threading.Thread | None = None

    # -- control -------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeArchive:
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-archive",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeArchive:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def add_fault(self, filename: str, kind: str, *, times: int = 1, **options: object) -> None:
        """Queue ``times`` faults of one kind for the next requests of ``filename``."""
        with self._lock:
            self.faults[filename].extend(Fault(kind, **options) for _ in range(times))

    def add_galex(self, eclipse: int, kind: str, path: Path) -> str:
        """Serve ``path`` as the eclipse's raw6 (kind ``NUV``/``FUV``) or scst (``BOTH``) file."""
        with self._lock:
            self.files[path.name] = path
            self.galex[int(eclipse)].append((kind, path.name))
        return self.galex_url(eclipse, path.name)

    def galex_url(self, eclipse: int, name: str) -> str:
        lo = (int(eclipse) // 100) * 100
        return f"{self.url}/gPhoton/RAW6/e{lo:05d}_{lo + 99:05d}/{int(eclipse):05d}/{name}"

    def galex_answer(self, query: str) -> bytes:
        match = re.match(r"^\s*spGetRawUrls\s+(\d+)\s*$", query)
        with self._lock:
            if self.galex_executing > 0:
                self.galex_executing -= 1
                return json.dumps({"status": "EXECUTING", "data": None}).encode()
            if not match:
                return json.dumps({"status": "ERROR", "msg": f"bad query {query!r}"}).encode()
            eclipse = int(match.group(1))
            suffix = ".gz" if self.galex_mislabel else ""
            rows = [[eclipse, kind, self.galex_url(eclipse, name) + suffix] for kind, name in self.galex[eclipse]]
        return json.dumps({"status": "COMPLETE", "data": {"Tables": [{"Rows": rows}]}}).encode()

    def requests_for(self, filename: str) -> list[Logged]:
        with self._lock:
            return [entry for entry in self.log if entry.filename == filename]

    # -- internals used by the handler -----------------------------------------------------------
    def _next_fault(self, filename: str) -> Fault | None:
        with self._lock:
            queue = self.faults.get(filename)
            return queue.pop(0) if queue else None

    def _record(self, entry: Logged) -> None:
        with self._lock:
            self.log.append(entry)

    def sector_script(self, sector: int) -> bytes | None:
        lines = ["#!/bin/sh"]
        for name in sorted(self.files):
            match = TESS_NAME.match(name)
            if match and int(match.group(1)) == sector:
                lines.append(
                    f"curl -C - -L -o {name} {self.url}/api/v0.1/Download/file/?uri=mast:TESS/product/{name}"
                )
        return ("\n".join(lines) + "\n").encode() if len(lines) > 1 else None

    def tap_answer(self, query: str) -> bytes | None:
        match = TAP_QUERY.match(query)
        if not match:
            return None
        top, table = match.groups()
        if table == "toi":
            text = TOI_CSV
        elif table in TAP_TABLES:
            raw = (self.demo_dir / "catalogs" / TAP_TABLES[table]).read_text()
            text = "".join(line + "\n" for line in raw.splitlines() if not line.startswith("#"))
        else:
            return None
        if top:
            lines = text.splitlines(keepends=True)
            text = "".join(lines[: int(top) + 1])
        return text.encode()


_SECTOR_SCRIPT = re.compile(r"^/missions/tess/download_scripts/sector/tesscurl_sector_(\d+)_lc\.sh$")
_TAP_ERROR = b"<?xml version='1.0'?><VOTABLE><INFO name='QUERY_STATUS' value='ERROR'/></VOTABLE>"


class _ArchiveHandler(BaseHTTPRequestHandler):
    """Answers one request of :class:`FakeArchive` (``archive`` is set per server)."""

    protocol_version = "HTTP/1.1"
    archive: FakeArchive

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        return  # keep test output quiet

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        parts = urlsplit(self.path)
        path, query = parts.path, parse_qs(parts.query)
        first = {key: values[0] for key, values in query.items()}
        if path.rstrip("/") == "/api/v0.1/Download/file":
            self._serve_product(first.get("uri", "").rsplit("/", 1)[-1], path)
        elif match := _SECTOR_SCRIPT.match(path):
            self._simple(path, Path(path).name, self.archive.sector_script(int(match.group(1))))
        elif path == "/portal/Mashup/MashupQuery.asmx/GalexPhotonListQueryTest":
            body = self.archive.galex_answer(first.get("query", ""))
            self._send(200, body, path, "spGetRawUrls", content_type="application/json")
        elif path.startswith("/gPhoton/RAW6/"):
            self._serve_product(path.rsplit("/", 1)[-1], path)
        elif path.rstrip("/") == "/TAP/sync":
            self._tap(path, first.get("query", ""))
        else:
            self._send(404, b"unknown path", path, "")

    def _tap(self, path: str, query: str) -> None:
        body = self.archive.tap_answer(query)
        if body is None:
            self._send(400, _TAP_ERROR, path, "TAP")
        else:
            self._send(200, body, path, "TAP", content_type="text/csv")

    def _simple(self, path: str, name: str, body: bytes | None) -> None:
        if body is None:
            self._send(404, b"not found", path, name)
        else:
            self._send(200, body, path, name, content_type="text/plain")

    def _send(
        self,
        status: int,
        body: bytes,
        path: str,
        name: str,
        content_type: str = "text/plain",
        headers: dict | None = None,
    ) -> None:
        self.archive._record(Logged(path, name, self.headers.get("Range"), status))
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _serve_product(self, filename: str, path: str) -> None:
        """A file as the archive serves it, with the next queued fault for it applied."""
        source = self.archive.files.get(filename)
        fault = self.archive._next_fault(filename)
        if fault and fault.kind == "hang":
            time.sleep(fault.delay)
        if fault and fault.kind == "status":
            extra = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            self._send(fault.code, f"injected {fault.code}".encode(), path, filename, headers=extra)
            return
        if source is None:
            self._send(404, b"no such file", path, filename)
            return
        data = source.read_bytes()
        if fault and fault.kind == "flip":
            position = len(data) // 2
            data = data[:position] + bytes([data[position] ^ 0xFF]) + data[position + 1 :]
        start = self._range_start() if self.archive.supports_range else 0
        if start and start >= len(data):
            headers = {"Content-Range": f"bytes */{len(data)}"}
            self._send(416, b"", path, filename, headers=headers)
            return
        self._send_product(data, start, fault, path, filename)

    def _send_product(
        self, data: bytes, start: int, fault: Fault | None, path: str, filename: str
    ) -> None:
        """Headers and body of a 200 (whole file) or 206 (from ``start``) answer."""
        status = 206 if start else 200
        body = data[start:]
        if fault and fault.kind == "truncate":
            body = body[: int(len(body) * fault.fraction)]
        self.archive._record(Logged(path, filename, self.headers.get("Range"), status))
        self.send_response(status)
        self.send_header("Content-Type", "application/fits")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes" if self.archive.supports_range else "none")
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.end_headers()
        if fault and fault.kind == "cut":
            self.wfile.write(body[: int(len(body) * fault.fraction)])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        delay = fault.delay if fault and fault.kind == "slow" else self.archive.chunk_delay_s
        self._write_body(body, delay)

    def _write_body(self, body: bytes, delay: float) -> None:
        if delay <= 0:
            self.wfile.write(body)
            return
        for offset in range(0, len(body), CHUNK):
            self.wfile.write(body[offset : offset + CHUNK])
            self.wfile.flush()
            time.sleep(delay)

    def _range_start(self) -> int:
        value = self.headers.get("Range") or ""
        match = re.match(r"^bytes=(\d+)-$", value)
        return int(match.group(1)) if match else 0


def _handler_for(archive: FakeArchive) -> type[BaseHTTPRequestHandler]:
    """The request handler class of one server, bound to its archive."""
    return type("Handler", (_ArchiveHandler,), {"archive": archive})


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the demo data at MAST URL paths.")
    parser.add_argument(
        "--demo-dir", type=Path, default=Path(__file__).resolve().parents[3] / "shared" / "data"
    )
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    archive = FakeArchive(args.demo_dir, port=args.port)
    print(archive.url, flush=True)
    archive._server.serve_forever()


if __name__ == "__main__":
    main()
