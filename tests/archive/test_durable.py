"""Batch publication of files: durable and renamed into place (no database)."""

from __future__ import annotations

from pathlib import Path

import pytest

from apps.archive.durable import publish, publish_each


@pytest.mark.parametrize("count", [1, 5])
def test_it_moves_every_temporary_file_into_place(tmp_path: Path, count: int) -> None:
    pairs = []
    for index in range(count):
        temporary = tmp_path / f".f{index}.part"
        temporary.write_bytes(bytes([index]) * 1000)
        pairs.append((temporary, tmp_path / "out" / f"f{index}"))
    (tmp_path / "out").mkdir()
    publish(pairs, root=tmp_path)
    assert [final.read_bytes() for _t, final in pairs] == [bytes([i]) * 1000 for i in range(count)]
    assert not list(tmp_path.glob("*.part"))


def test_it_publishes_each_file_it_can_when_one_cannot_be_put_in_place(tmp_path: Path) -> None:
    pairs = []
    for index in range(4):
        temporary = tmp_path / f".f{index}.part"
        temporary.write_bytes(bytes([index]) * 1000)
        pairs.append((temporary, tmp_path / f"f{index}"))
    (tmp_path / "f2").mkdir()
    (tmp_path / "f2" / "keep").write_text("a folder where a file should go")
    errors = publish_each(pairs)
    assert [error is None for error in errors] == [True, True, False, True]
    assert isinstance(errors[2], OSError) and pairs[2][0].exists()
    assert [pairs[i][1].read_bytes() for i in (0, 1, 3)] == [bytes([i]) * 1000 for i in (0, 1, 3)]
