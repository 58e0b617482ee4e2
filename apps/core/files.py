"""Atomic, checksummed writes of product files under DATA_ROOT."""

from __future__ import annotations

import contextvars
import hashlib
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

from apps.core.fsync import fsync_path

logger = logging.getLogger(__name__)

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
    # Under DATA_ROOT the temporary file goes to the staging folder (same filesystem), which a
    # job's next attempt empties: a writer killed mid-write leaves nothing among the products.
    inside = data_root().resolve() in final.resolve().parents
    folder = staging_dir() if inside else final.parent
    fd, tmp_name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".part", dir=folder)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        fsync_path(tmp)
        os.replace(tmp, final)
        fsync_path(final.parent)
    finally:
        if tmp.exists():
            tmp.unlink()


_STAGING_SCOPE: contextvars.ContextVar[str | None] = contextvars.ContextVar("staging_scope", default=None)


def staging_scope_name() -> str | None:
    """The current :func:`staging_scope`'s name (``job<id>`` inside a job run), or None."""
    return _STAGING_SCOPE.get()


def staging_dir() -> Path:
    """Where temporary files to be published into DATA_ROOT are written (same filesystem).

    Inside :func:`staging_scope` (every job run) it is ``.staging/<scope>/``, which the scope
    empties when it starts and ends: whatever a killed attempt of a job was writing is removed
    when the job is claimed again, so no temporary file outlives its writer.
    """
    scope = _STAGING_SCOPE.get()
    folder = data_root() / ".staging" / scope if scope else data_root() / ".staging"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextmanager
def staging_scope(name: str, recover: Callable[[Path], object] | None = None) -> Iterator[Path]:
    """Give the code inside its own staging folder, cleared on entry (a dead attempt's leftovers)
    and on exit. Only one holder of a name may run at a time (a job's claim ensures it).

    ``recover(folder)``, when given, looks at what the folder holds before each clearing (the
    jobs app undoes artifact publications whose rows were never committed); if it fails on exit
    the folder is kept for the next holder.
    """
    folder = data_root() / ".staging" / name
    if recover is not None and folder.is_dir():
        recover(folder)
    shutil.rmtree(folder, ignore_errors=True)
    token = _STAGING_SCOPE.set(name)
    try:
        yield folder
    finally:
        _STAGING_SCOPE.reset(token)
        try:
            if recover is not None and folder.is_dir():
                recover(folder)
        except Exception:  # noqa: BLE001 - e.g. the database restarts: leave it to the next claim
            logger.warning("staging folder %s kept: its recovery failed", folder, exc_info=True)
        else:
            shutil.rmtree(folder, ignore_errors=True)


def staging_copy(source: Path, *, move: bool) -> tuple[Path, str, int]:
    """Bring ``source`` into DATA_ROOT's staging folder, fsynced: (staged path, sha256, bytes).

    Staging lives on DATA_ROOT's filesystem, so the staged file can then be published with an
    atomic hard link; moving from another filesystem becomes a checked copy, then the delete.
    """
    staging = staging_dir()
    fd, name = tempfile.mkstemp(prefix=f"{Path(source).name}.", suffix=".part", dir=staging)
    staged = Path(name)
    digest, size = hashlib.sha256(), 0
    try:
        with open(source, "rb") as src, os.fdopen(fd, "wb") as dst:
            for block in iter(lambda: src.read(CHUNK), b""):
                digest.update(block)
                size += len(block)
                dst.write(block)
            dst.flush()
            os.fsync(dst.fileno())
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    if move:
        Path(source).unlink(missing_ok=True)
    return staged, digest.hexdigest(), size


def publish_exclusive(staged: Path, final: Path) -> bool:
    """Hard-link ``staged`` to ``final`` only if ``final`` does not exist (atomic); fsync the folder."""
    final.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(staged, final)
    except FileExistsError:
        return False
    fsync_path(final.parent)
    return True
