"""Is what the database says about product files true? (``manage.py check_data``)

Every Artifact row's file must exist with its recorded sha256 and size; every LightCurve's
Parquet file must exist and be a whole Parquet file; verified archive downloads must match their
sha256. Files in the product folders that no row references are orphans, and temporary files
(``*.part``, the staging folder) left behind by a crash are leftovers. Consistent means none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from apps.core.files import data_root, sha256_file

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


def _whole_parquet(path: Path) -> bool:
    size = path.stat().st_size
    if size < 12:
        return False
    with open(path, "rb") as handle:
        head = handle.read(4)
        handle.seek(-4, 2)
        return head == PARQUET_MAGIC and handle.read(4) == PARQUET_MAGIC


def _referenced() -> Iterator[tuple[str, str, Callable[[Path], str | None]]]:
    """(label, relative path, check) for every file a row points at; check returns a problem or None."""
    from apps.archive.models import ArchiveFile, FileState
    from apps.catalog.models import LightCurve
    from apps.jobs.models import Artifact

    for art in Artifact.objects.only("pk", "path", "sha256", "size_bytes").iterator():
        def check_artifact(path: Path, art=art) -> str | None:
            if path.stat().st_size != art.size_bytes:
                return f"size {path.stat().st_size} != {art.size_bytes}"
            return None if sha256_file(path) == art.sha256 else "sha256 differs"

        yield f"artifact {art.pk}", art.path, check_artifact
    for curve in LightCurve.objects.only("pk", "parquet_path").iterator():
        yield f"lightcurve {curve.pk}", curve.parquet_path, lambda p: None if _whole_parquet(p) else "not a whole Parquet file"
    verified = ArchiveFile.objects.filter(state=FileState.VERIFIED).exclude(local_path="").only("pk", "local_path", "sha256")
    for row in verified.iterator():
        def check_download(path: Path, row=row) -> str | None:
            return None if not row.sha256 or sha256_file(path) == row.sha256 else "sha256 differs"

        yield f"download {row.pk}", row.local_path, check_download


def data_check() -> DataReport:
    root = data_root()
    report = DataReport()
    known: set[Path] = set()
    # An artifact's version folder is its own: sidecars written beside the file (a model's
    # manifest next to its weights) belong to that version, not orphans.
    version_folders: set[Path] = set()
    for label, relative, check in _referenced():
        report.checked += 1
        path = (root / relative).resolve()
        known.add(path)
        if label.startswith("artifact "):
            version_folders.add(path.parent)
        if not path.is_file():
            report.missing.append(f"{label}: {relative}")
            continue
        problem = check(path)
        if problem:
            report.corrupt.append(f"{label}: {relative} ({problem})")
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        relative = path.relative_to(root)
        if path.name.endswith(".part") or relative.parts[0] == ".staging":
            report.leftovers.append(str(relative))
        elif relative.parts[0] in PRODUCT_FOLDERS and path.resolve() not in known and (
            path.resolve().parent not in version_folders
        ):
            report.orphans.append(str(relative))
    return report
