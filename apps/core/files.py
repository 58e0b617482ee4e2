"""Atomic, checksummed writes of product files under DATA_ROOT."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

CHUNK = 1 << 20


def data_root() -> Path:
    root = Path(settings.DATA_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    return root


def resolve_data_path(relative: str | Path) -> Path:
    """Absolute path of a file referenced from the database (paths are stored relative to DATA_ROOT)."""
    path = (data_root() / relative).resolve()
    if data_root().resolve() not in path.parents and path != data_root().resolve():
        raise ValueError(f"path {relative!s} escapes DATA_ROOT")
    return path


def relative_data_path(path: Path) -> str:
    return str(Path(path).resolve().relative_to(data_root().resolve()))


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


@contextmanager
def atomic_path(final: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``final``; on success fsync it and rename it into place.

    A crash at any moment leaves either the old file or the complete new one, never a partial file.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".part", dir=final.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, final)
        dir_fd = os.open(final.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_atomically(final: Path, writer: Callable[[Path], None]) -> str:
    """Write ``final`` through ``writer(tmp_path)`` atomically and return its sha256."""
    with atomic_path(final) as tmp:
        writer(tmp)
    return sha256_file(final)
