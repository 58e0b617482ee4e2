"""Artifacts are published atomically (staged in DATA_ROOT, fsynced, exclusively linked), writers
of one key each get their own version, and check_data finds every way the files can go wrong."""

from __future__ import annotations

import hashlib
import threading

import pytest
from django.core.management import call_command
from django.db import connection

from apps.core.files import resolve_data_path
from apps.jobs.integrity import data_check
from apps.jobs.models import Artifact
from apps.jobs.services import artifact_path, artifact_store


def payload(tmp_path, name: str, content: bytes):  # noqa: ANN001, ANN201
    path = tmp_path / name
    path.write_bytes(content)
    return path


def race_writers(tmp_path, contents: list[bytes], key: str = "tce/1/gaia") -> list[Artifact]:  # noqa: ANN001
    """Store each of ``contents`` as ``key`` from its own thread, all released at once; the rows."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(contents))

    def write(i: int) -> None:
        try:
            source = payload(tmp_path, f"w{i}.parquet", contents[i])
            barrier.wait()
            artifact_store(key=key, kind="views", source=source)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(i,)) for i in range(len(contents))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    return list(Artifact.objects.filter(key=key).order_by("version"))


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_of_one_key_each_get_their_own_version(tmp_path, settings):
    settings.DATA_ROOT = tmp_path / "data"
    contents = [f"writer {i}".encode() * 1000 for i in range(6)]
    rows = race_writers(tmp_path, contents)
    assert [a.version for a in rows] == list(range(1, len(contents) + 1))
    stored = {resolve_data_path(a.path).read_bytes() for a in rows}
    assert stored == set(contents)
    for a in rows:
        assert hashlib.sha256(resolve_data_path(a.path).read_bytes()).hexdigest() == a.sha256
    assert data_check().consistent


@pytest.mark.django_db
def test_a_file_left_by_a_crashed_attempt_burns_its_version(tmp_path, settings):
    settings.DATA_ROOT = tmp_path / "data"
    leftover = artifact_path(key="k", version=1, filename="x.bin")
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"half of something")
    stored = artifact_store(key="k", kind="views", source=payload(tmp_path, "x.bin", b"whole"))
    assert stored.version == 2 and resolve_data_path(stored.path).read_bytes() == b"whole"
    assert not (settings.DATA_ROOT / ".staging").exists() or not any((settings.DATA_ROOT / ".staging").iterdir())
    report = data_check()
    assert report.orphans == ["artifacts/k/v1/x.bin"] and not report.consistent


@pytest.mark.django_db
def test_check_data_reports_missing_corrupt_orphan_and_leftover_files(tmp_path, settings, capsys):
    settings.DATA_ROOT = tmp_path / "data"
    good = artifact_store(key="a", kind="views", source=payload(tmp_path, "a.bin", b"a" * 100))
    gone = artifact_store(key="b", kind="views", source=payload(tmp_path, "b.bin", b"b" * 100))
    bad = artifact_store(key="c", kind="views", source=payload(tmp_path, "c.bin", b"c" * 100))
    call_command("check_data")
    assert "consistent" in capsys.readouterr().out
    resolve_data_path(gone.path).unlink()
    resolve_data_path(bad.path).write_bytes(b"d" * 100)
    (settings.DATA_ROOT / "artifacts" / "stray.bin").write_bytes(b"?")
    (settings.DATA_ROOT / "lightcurves").mkdir()
    (settings.DATA_ROOT / "lightcurves" / ".q1.parquet.x.part").write_bytes(b"?")
    report = data_check()
    assert report.checked == 3 and not report.consistent
    assert report.missing == [f"artifact {gone.pk}: {gone.path}"]
    assert report.corrupt == [f"artifact {bad.pk}: {bad.path} (sha256 differs)"]
    assert report.orphans == ["artifacts/stray.bin"]
    assert report.leftovers == ["lightcurves/.q1.parquet.x.part"]
    with pytest.raises(SystemExit) as exit_info:
        call_command("check_data", "--json")
    assert exit_info.value.code == 1
    assert good.pk not in [int(m.split()[1].rstrip(":")) for m in report.missing]
