"""Is what the database says about product files true? (``manage.py check_data``)

Every Artifact row's file must exist with its recorded sha256 and size; every LightCurve's
Parquet file must exist and be a whole Parquet file; verified archive downloads must match their
sha256. Files in the product folders that no row references are orphans, and temporary files
(``*.part``, the staging folder) left behind by a crash are leftovers. Consistent means none.

Jobs owns only the Artifact rows; the catalogue (light curves) and the archive (downloads)
register their own references with ``register_data_references`` in their AppConfig.ready().
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from apps.core.files import data_root, sha256_file

#: A file some row points at: (label, path relative to DATA_ROOT, check returning a problem or None).
Reference = tuple[str, str, Callable[[Path], str | None]]

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


def whole_parquet(path: Path) -> bool:
    """Starts and ends with the Parquet magic bytes: the file was written to its end."""
    size = path.stat().st_size
    if size < 12:
        return False
    with open(path, "rb") as handle:
        head = handle.read(4)
        handle.seek(-4, 2)
        return head == PARQUET_MAGIC and handle.read(4) == PARQUET_MAGIC


def _artifact_references() -> Iterator[Reference]:
    from apps.jobs.models import Artifact

    for art in Artifact.objects.only("pk", "path", "sha256", "size_bytes").iterator():
        def check_artifact(path: Path, art=art) -> str | None:
            if path.stat().st_size != art.size_bytes:
                return f"size {path.stat().st_size} != {art.size_bytes}"
            return None if sha256_file(path) == art.sha256 else "sha256 differs"

        yield f"artifact {art.pk}", art.path, check_artifact


def _referenced() -> Iterator[Reference]:
    """Every file a row points at: artifacts, then what each app registered."""
    yield from _artifact_references()
    for source in _SOURCES:
        yield from source()


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
