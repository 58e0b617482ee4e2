"""Is what the database says about product files true? (``manage.py check_data``)

Every Artifact row's file must exist with its recorded sha256 and size; every LightCurve's
Parquet file must exist and be a whole Parquet file; verified archive downloads must match their
sha256. Files in the product folders that no row references are orphans, and temporary files
(``*.part``, the staging folder) left behind by a crash are leftovers. Consistent means none.
Product files are checked where the product storage keeps them (the disk or an S3 bucket:
``apps.core.storage``); staging and archive downloads are always on the local disk.

Jobs owns only the Artifact rows; the catalogue (light curves) and the archive (downloads)
register their own references with ``register_data_references`` in their AppConfig.ready().
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from apps.core.files import data_root
from apps.core.storage import (
    product_exists,
    product_head_tail,
    product_sha256,
    product_size,
    product_walk,
)


@dataclass(frozen=True)
class Reference:
    """A file some row points at: ``check`` returns a problem or None; ``exists`` says where to look
    (the product storage by default; ``local_file`` for files that always stay on this disk)."""

    label: str
    relative: str
    check: Callable[[str], str | None]
    exists: Callable[[str], bool] = product_exists


#: Folders under DATA_ROOT that only hold files some row references (apps add theirs).
PRODUCT_FOLDERS = {"artifacts"}
PARQUET_MAGIC = b"PAR1"

#: Each app's source of references, registered in its AppConfig.ready(): jobs knows no domain model.
_SOURCES: list[Callable[[], Iterator[Reference]]] = []


def register_data_references(source: Callable[[], Iterator[Reference]], *, product_folder: str | None = None) -> None:
    """Let ``check_data`` verify the files an app's rows point at (and own ``product_folder``'s files)."""
    if source not in _SOURCES:
        _SOURCES.append(source)
    if product_folder:
        PRODUCT_FOLDERS.add(product_folder)


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


def whole_parquet(relative: str) -> bool:
    """Starts and ends with the Parquet magic bytes: the product was written to its end."""
    if product_size(relative) < 12:
        return False
    head, tail = product_head_tail(relative, len(PARQUET_MAGIC))
    return head == tail == PARQUET_MAGIC


def local_file(relative: str) -> bool:
    """For references that never leave this disk (archive downloads)."""
    return (data_root() / relative).is_file()


def _artifact_references() -> Iterator[Reference]:
    from apps.jobs.models import Artifact

    for art in Artifact.objects.only("pk", "path", "sha256", "size_bytes").iterator():
        def check_artifact(relative: str, art=art) -> str | None:  # noqa: ANN001
            size = product_size(relative)
            if size != art.size_bytes:
                return f"size {size} != {art.size_bytes}"
            return None if product_sha256(relative) == art.sha256 else "sha256 differs"

        yield Reference(f"artifact {art.pk}", art.path, check_artifact)


def _referenced() -> Iterator[Reference]:
    """Every file a row points at: artifacts, then what each app registered."""
    yield from _artifact_references()
    for source in _SOURCES:
        yield from source()


def _normal(relative: str) -> str:
    return str(PurePosixPath(relative))


def data_check() -> DataReport:
    report = DataReport()
    known: set[str] = set()
    # An artifact's version folder is its own: sidecars written beside the file (a model's
    # manifest next to its weights) belong to that version, not orphans.
    version_folders: set[PurePosixPath] = set()
    for ref in _referenced():
        report.checked += 1
        known.add(_normal(ref.relative))
        if ref.label.startswith("artifact "):
            version_folders.add(PurePosixPath(ref.relative).parent)
        if not ref.exists(ref.relative):
            report.missing.append(f"{ref.label}: {ref.relative}")
            continue
        problem = ref.check(ref.relative)
        if problem:
            report.corrupt.append(f"{ref.label}: {ref.relative} ({problem})")
    _leftovers(report)
    _orphans(report, known, version_folders)
    return report


def _leftovers(report: DataReport) -> None:
    root = data_root()
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if path.is_file() and (path.name.endswith(".part") or relative.parts[0] == ".staging"):
            report.leftovers.append(str(relative))


def _orphans(report: DataReport, known: set[str], version_folders: set[PurePosixPath]) -> None:
    for folder in sorted(PRODUCT_FOLDERS):
        for relative in product_walk(folder):
            if relative.endswith(".part") or relative in known:
                continue  # a temporary file is a leftover (above), not an orphan
            if PurePosixPath(relative).parent not in version_folders:
                report.orphans.append(relative)
