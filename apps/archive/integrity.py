"""The archive's part of ``manage.py check_data``: verified downloads still match their sha256.

Downloads stay on this disk whatever the product storage is, so they are looked up locally.
"""

from __future__ import annotations

from collections.abc import Iterator

from apps.archive.models import ArchiveFile, FileState
from apps.core.files import data_root, sha256_file
from apps.jobs.integrity import Reference, local_file


def download_references() -> Iterator[Reference]:
    verified = ArchiveFile.objects.filter(state=FileState.VERIFIED).exclude(local_path="").only("pk", "local_path", "sha256")
    for row in verified.iterator():
        def check_download(relative: str, row=row) -> str | None:  # noqa: ANN001
            return None if not row.sha256 or sha256_file(data_root() / relative) == row.sha256 else "sha256 differs"

        yield Reference(f"download {row.pk}", row.local_path, check_download, local_file)
