"""The archive's part of ``manage.py check_data``: verified downloads still match their sha256."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from apps.archive.models import ArchiveFile, FileState
from apps.core.files import sha256_file
from apps.jobs.integrity import Reference


def download_references() -> Iterator[Reference]:
    verified = ArchiveFile.objects.filter(state=FileState.VERIFIED).exclude(local_path="").only("pk", "local_path", "sha256")
    for row in verified.iterator():
        def check_download(path: Path, row=row) -> str | None:
            return None if not row.sha256 or sha256_file(path) == row.sha256 else "sha256 differs"

        yield f"download {row.pk}", row.local_path, check_download
