"""The download engine against a real local server with injected faults (no mocks of HTTP)."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import pytest

from apps.archive.clients import verify_fits_file
from apps.archive.fetch import FetchEvent, FetchPolicy, FetchRequest, fetch_files, part_path
from apps.archive.mirror import MirrorTransport
from tests.archive.fake_archive import FakeArchive

FAST = {"backoff_base_s": 0.02, "backoff_max_s": 0.1, "read_timeout_s": 5.0}


def request(archive_url: str, name: str, dest: Path, key: int = 0) -> FetchRequest:
    url = f"{archive_url}/api/v0.1/Download/file?uri=mast:Kepler/url/missions/kepler/lightcurves/x/{name}"
    return FetchRequest(key=key, url=url, dest=dest / name, verify=verify_fits_file)


def final_events(events: list[FetchEvent]) -> dict[int, FetchEvent]:
    return {e.key: e for e in events if e.kind in ("done", "missing", "failed")}


def fetch_one(
    archive: FakeArchive, name: str, dest: Path, **policy: float
) -> tuple[FetchEvent, list[FetchEvent]]:
    events = list(
        fetch_files([request(archive.url, name, dest)], FetchPolicy(**{**FAST, **policy}))
    )
    return final_events(events)[0], events


@pytest.fixture
def server(demo_data: Path):  # noqa: ANN201
    with FakeArchive(demo_data) as archive:
        yield archive


NAME = "kplr011442793-2009350155506_llc.fits"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_it_fetches_every_demo_file_verified_with_its_sha256(
    server: FakeArchive, tmp_path: Path
) -> None:
    names = sorted(server.files)
    requests = [request(server.url, name, tmp_path, key) for key, name in enumerate(names)]
    events = list(fetch_files(requests, FetchPolicy(concurrency=8, **FAST)))
    finals = final_events(events)
    assert [finals[k].kind for k in range(len(names))] == ["done"] * len(names)
    for key, name in enumerate(names):
        assert finals[key].sha256 == sha256(server.files[name]) == sha256(tmp_path / name)
        assert finals[key].nbytes == server.files[name].stat().st_size
    assert not list(tmp_path.glob("*.part"))
    assert sum(e.nbytes for e in events if e.kind == "progress") == sum(
        p.stat().st_size for p in server.files.values()
    )


def test_it_retries_a_server_error_and_then_succeeds(server: FakeArchive, tmp_path: Path) -> None:
    server.add_fault(NAME, "status", code=503, times=2)
    final, events = fetch_one(server, NAME, tmp_path)
    assert final.kind == "done" and final.attempt == 3
    assert [e.kind for e in events if e.kind == "retrying"] == ["retrying", "retrying"]
    assert [r.status for r in server.requests_for(NAME)] == [503, 503, 200]


def test_it_waits_as_long_as_retry_after_asks(server: FakeArchive, tmp_path: Path) -> None:
    server.add_fault(NAME, "status", code=429, retry_after="1")
    final, events = fetch_one(server, NAME, tmp_path)
    first, second = server.requests_for(NAME)
    assert final.kind == "done" and first.status == 429
    assert second.at - first.at >= 1.0
    assert next(e for e in events if e.kind == "retrying").delay_s == 1.0


def test_it_resumes_a_connection_cut_mid_body_with_a_range_request(
    server: FakeArchive, tmp_path: Path
) -> None:
    server.add_fault(NAME, "cut", fraction=0.4)
    final, _ = fetch_one(server, NAME, tmp_path)
    first, second = server.requests_for(NAME)
    offset = int(second.range.removeprefix("bytes=").rstrip("-"))
    assert 0 < offset < server.files[NAME].stat().st_size
    assert (second.status, final.resumed_from) == (206, offset)
    assert final.kind == "done" and final.sha256 == sha256(server.files[NAME])


def test_it_restarts_from_zero_when_the_server_ignores_ranges(
    server: FakeArchive, tmp_path: Path
) -> None:
    server.supports_range = False
    server.add_fault(NAME, "cut", fraction=0.4)
    final, _ = fetch_one(server, NAME, tmp_path)
    assert [r.status for r in server.requests_for(NAME)] == [200, 200]
    assert (
        final.kind == "done"
        and final.resumed_from == 0
        and final.sha256 == sha256(server.files[NAME])
    )


@pytest.mark.parametrize(
    ("fault", "reason"), [("truncate", "incomplete download"), ("flip", "CHECKSUM mismatch")]
)
def test_it_fetches_again_a_body_that_fails_verification(
    server: FakeArchive, tmp_path: Path, fault: str, reason: str
) -> None:
    server.add_fault(NAME, fault)
    final, events = fetch_one(server, NAME, tmp_path)
    assert reason in next(e for e in events if e.kind == "retrying").error
    assert final.kind == "done" and final.sha256 == sha256(server.files[NAME])
    assert [r.range for r in server.requests_for(NAME)] == [None, None]  # restarted, not resumed


def test_it_only_verifies_a_part_file_that_is_already_complete(
    server: FakeArchive, tmp_path: Path
) -> None:
    size = server.files[NAME].stat().st_size
    part_path(tmp_path / NAME).write_bytes(server.files[NAME].read_bytes())  # killed before rename
    final, _ = fetch_one(server, NAME, tmp_path)
    assert [(r.range, r.status) for r in server.requests_for(NAME)] == [(f"bytes={size}-", 416)]
    assert final.kind == "done" and final.sha256 == sha256(server.files[NAME])
    assert sha256(tmp_path / NAME) == final.sha256


def test_it_restarts_a_part_file_longer_than_the_file(server: FakeArchive, tmp_path: Path) -> None:
    part_path(tmp_path / NAME).write_bytes(server.files[NAME].read_bytes() + b"junk")
    final, _ = fetch_one(server, NAME, tmp_path)
    assert [r.status for r in server.requests_for(NAME)] == [416, 200]
    assert final.kind == "done" and final.sha256 == sha256(server.files[NAME])


def test_it_gives_up_after_the_retry_budget_and_says_why(
    server: FakeArchive, tmp_path: Path
) -> None:
    server.add_fault(NAME, "flip", times=3)
    final, _ = fetch_one(server, NAME, tmp_path, max_attempts=3)
    assert (
        final.kind == "failed"
        and "CHECKSUM mismatch" in final.error
        and "after 3 attempts" in final.error
    )
    assert not (tmp_path / NAME).exists() and not part_path(tmp_path / NAME).exists()


def test_it_does_not_retry_client_errors(server: FakeArchive, tmp_path: Path) -> None:
    server.add_fault(NAME, "status", code=403)
    final, _ = fetch_one(server, NAME, tmp_path)
    assert final.kind == "failed" and final.error == "HTTP 403 (not retried)"
    assert len(server.requests_for(NAME)) == 1


def test_it_reports_a_missing_file_once_without_retrying(
    server: FakeArchive, tmp_path: Path
) -> None:
    final, _ = fetch_one(server, "kplr011442793-2009131105131_llc.fits", tmp_path)
    assert final.kind == "missing"
    assert len(server.requests_for("kplr011442793-2009131105131_llc.fits")) == 1


def test_it_retries_a_server_that_answers_too_slowly(server: FakeArchive, tmp_path: Path) -> None:
    server.add_fault(NAME, "hang", delay=1.0)
    final, events = fetch_one(server, NAME, tmp_path, read_timeout_s=0.3)
    assert "ReadTimeout" in next(e for e in events if e.kind == "retrying").error
    assert final.kind == "done"


def test_it_stops_when_the_consumer_stops_and_keeps_partial_files(
    server: FakeArchive, tmp_path: Path
) -> None:
    server.chunk_delay_s = 0.05
    names = sorted(server.files)[:4]
    stream = fetch_files(
        [request(server.url, n, tmp_path, k) for k, n in enumerate(names)],
        FetchPolicy(concurrency=4, **FAST),
    )
    received = 0
    for event in stream:
        received += event.nbytes if event.kind == "progress" else 0
        if received > 200_000:
            break
    stream.close()
    assert not [t for t in threading.enumerate() if t.name == "archive-fetch"]
    assert any(part_path(tmp_path / n).exists() for n in names)
    assert not any((tmp_path / n).exists() for n in names)


def test_it_reads_a_local_mirror_through_the_same_code_path(
    demo_data: Path, tmp_path: Path
) -> None:
    transport = MirrorTransport(demo_data)
    names = [
        NAME,
        "tess2018206045859-s0001-0000000025155310-0120-s_lc.fits",
        "kplr000000001-2009350155506_llc.fits",
    ]
    requests = [request("https://mast.example", n, tmp_path, k) for k, n in enumerate(names)]
    finals = final_events(list(fetch_files(requests, FetchPolicy(**FAST), transport=transport)))
    assert [finals[k].kind for k in range(3)] == ["done", "done", "missing"]
    assert sha256(tmp_path / NAME) == sha256(demo_data / "kepler" / NAME)


def test_it_streams_a_file_larger_than_a_block_in_several_writes(
    server: FakeArchive, tmp_path: Path
) -> None:
    final, events = fetch_one(server, NAME, tmp_path, block_bytes=64 * 1024)
    progress = [e.nbytes for e in events if e.kind == "progress"]
    assert final.kind == "done" and final.sha256 == sha256(server.files[NAME])
    assert len(progress) > 2 and sum(progress) == server.files[NAME].stat().st_size
    assert sha256(tmp_path / NAME) == final.sha256


def test_it_resumes_a_body_cut_after_several_blocks_were_written(
    server: FakeArchive, tmp_path: Path
) -> None:
    server.add_fault(NAME, "cut", fraction=0.7)
    final, _ = fetch_one(server, NAME, tmp_path, block_bytes=64 * 1024)
    first, second = server.requests_for(NAME)
    offset = int(second.range.removeprefix("bytes=").rstrip("-"))
    assert 64 * 1024 <= offset < server.files[NAME].stat().st_size
    assert (second.status, final.resumed_from) == (206, offset)
    assert final.kind == "done" and final.sha256 == sha256(server.files[NAME])


def test_it_writes_a_slow_body_to_the_part_file_while_it_arrives(
    server: FakeArchive, tmp_path: Path
) -> None:
    server.chunk_delay_s = 0.02  # 16 kB every 20 ms: far below a block, so only time flushes it
    stream = fetch_files(
        [request(server.url, NAME, tmp_path)], FetchPolicy(flush_interval_s=0.1, **FAST)
    )
    for event in stream:
        if event.kind == "progress":
            break
    part = part_path(tmp_path / NAME)
    written = part.read_bytes()
    stream.close()
    assert 0 < len(written) < server.files[NAME].stat().st_size
    assert server.files[NAME].read_bytes().startswith(written)


def test_it_reports_events_of_each_file_in_order(server: FakeArchive, tmp_path: Path) -> None:
    names = sorted(server.files)
    requests = [request(server.url, name, tmp_path, key) for key, name in enumerate(names)]
    events = list(fetch_files(requests, FetchPolicy(concurrency=8, **FAST)))
    for key in range(len(names)):
        kinds = [e.kind for e in events if e.key == key]
        assert kinds[0] == "started" and kinds[-1] == "done"
        assert set(kinds[1:-1]) == {"progress"}


def test_it_fails_only_the_file_that_cannot_be_put_in_place(
    server: FakeArchive, tmp_path: Path
) -> None:
    names = sorted(server.files)[:4]
    blocked = tmp_path / names[0]
    blocked.mkdir()
    (blocked / "keep").write_text("a folder where the file should go")
    requests = [request(server.url, name, tmp_path, key) for key, name in enumerate(names)]
    finals = final_events(list(fetch_files(requests, FetchPolicy(concurrency=4, **FAST))))
    assert finals[0].kind == "failed" and "local file error" in finals[0].error
    assert [finals[k].kind for k in (1, 2, 3)] == ["done"] * 3
    for key in (1, 2, 3):
        assert sha256(tmp_path / names[key]) == sha256(server.files[names[key]])


def test_it_resumes_a_part_file_from_a_local_mirror(demo_data: Path, tmp_path: Path) -> None:
    source = demo_data / "kepler" / NAME
    part_path(tmp_path / NAME).write_bytes(source.read_bytes()[:100_000])
    events = list(
        fetch_files(
            [request("https://mast.example", NAME, tmp_path)],
            FetchPolicy(**FAST),
            transport=MirrorTransport(demo_data),
        )
    )
    final = final_events(events)[0]
    assert (final.kind, final.resumed_from) == ("done", 100_000)
    assert final.sha256 == sha256(source) == sha256(tmp_path / NAME)
