"""Batch publication of files: durable and renamed into place (no database)."""

from __future__ import annotations

from pathlib import Path

import pytest

from apps.archive.durable import publish


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
