"""Is what the database says about product files true? (``manage.py check_data``)

Every Artifact row's file must exist with its recorded sha256 and size; every LightCurve's
Parquet file must exist and be a whole Parquet file; verified archive downloads must match their
sha256. Files in the product folders that no row references are orphans, and temporary files
(``*.part``, the staging folder) left behind by a crash are leftovers. Consistent means none.
Product files are checked where the product storage keeps them (the disk or an S3 bucket:
``apps.core.storage``); staging and archive downloads are always on the local disk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from apps.core.files import data_root, sha256_file
from apps.core.storage import (
    product_exists,
    product_head_tail,
    product_sha256,
    product_size,
    product_walk,
)

#: Folders under DATA_ROOT that only hold files some row references.
PRODUCT_FOLDERS = ("artifacts", "lightcurves")
PARQUET_MAGIC = b"PAR1"


@dataclass
class DataReport:
    checked: int = 0
    missing: list[str] = field(default_factory=list)
    corrupt: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    leftovers: list[str] = field(default_factory=list)

    @property
    def consistent(self) -> bool:
        return not (self.missing or self.corrupt or self.orphans or self.leftovers)

    def as_dict(self) -> dict:
        return {"checked": self.checked, "consistent": self.consistent, "missing": self.missing,
                "corrupt": self.corrupt, "orphans": self.orphans, "leftovers": self.leftovers}


def _whole_parquet(relative: str) -> bool:
    if product_size(relative) < 12:
        return False
    head, tail = product_head_tail(relative, len(PARQUET_MAGIC))
    return head == tail == PARQUET_MAGIC


def _check_artifact(art) -> Callable[[str], str | None]:  # noqa: ANN001
    def check(relative: str) -> str | None:
        size = product_size(relative)
        if size != art.size_bytes:
            return f"size {size} != {art.size_bytes}"
        return None if product_sha256(relative) == art.sha256 else "sha256 differs"

    return check


def _check_download(row) -> Callable[[str], str | None]:  # noqa: ANN001
    def check(relative: str) -> str | None:
        return None if not row.sha256 or sha256_file(data_root() / relative) == row.sha256 else "sha256 differs"

    return check


def _local_file(relative: str) -> bool:
    return (data_root() / relative).is_file()


def _referenced() -> Iterator[tuple[str, str, Callable[[str], bool], Callable[[str], str | None]]]:
    """(label, relative path, exists, check) for every file a row points at; check returns a
    problem or None. Products go through the product storage; archive downloads are local files.
    """
    from apps.archive.models import ArchiveFile, FileState
    from apps.catalog.models import LightCurve
    from apps.jobs.models import Artifact

    for art in Artifact.objects.only("pk", "path", "sha256", "size_bytes").iterator():
        yield f"artifact {art.pk}", art.path, product_exists, _check_artifact(art)
    for curve in LightCurve.objects.only("pk", "parquet_path").iterator():
        yield (f"lightcurve {curve.pk}", curve.parquet_path, product_exists,
               lambda p: None if _whole_parquet(p) else "not a whole Parquet file")
    verified = ArchiveFile.objects.filter(state=FileState.VERIFIED).exclude(local_path="").only("pk", "local_path", "sha256")
    for row in verified.iterator():
        yield f"download {row.pk}", row.local_path, _local_file, _check_download(row)


def _normal(relative: str) -> str:
    return str(PurePosixPath(relative))


def data_check() -> DataReport:
    report = DataReport()
    known: set[str] = set()
    # An artifact's version folder is its own: sidecars written beside the file (a model's
    # manifest next to its weights) belong to that version, not orphans.
    version_folders: set[PurePosixPath] = set()
    for label, relative, exists, check in _referenced():
        report.checked += 1
        known.add(_normal(relative))
        if label.startswith("artifact "):
            version_folders.add(PurePosixPath(relative).parent)
        if not exists(relative):
            report.missing.append(f"{label}: {relative}")
            continue
        problem = check(relative)
        if problem:
            report.corrupt.append(f"{label}: {relative} ({problem})")
    root = data_root()
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if path.is_file() and (path.name.endswith(".part") or relative.parts[0] == ".staging"):
            report.leftovers.append(str(relative))
    for folder in PRODUCT_FOLDERS:
        for relative in product_walk(folder):
            if relative.endswith(".part") or relative in known:
                continue  # a temporary file is a leftover (above), not an orphan
            if PurePosixPath(relative).parent not in version_folders:
                report.orphans.append(relative)
    return report
