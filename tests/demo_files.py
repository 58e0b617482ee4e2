"""What the demo folder (../shared/data) holds, read from the files present and its MANIFEST.md.

Tests derive their expected counts from here instead of hard-coding them, so adding real files
to the folder (as the K2 and later TESS sectors were) does not break them.
"""

from __future__ import annotations

import re
from pathlib import Path

LIGHTCURVE_FOLDERS = ("kepler", "k2", "tess")
"""Folders of MAST light-curve files, one mission each."""

_MANIFEST_ROW = re.compile(r"^\| `([^`]+)` \|", re.MULTILINE)


def lightcurve_files(root: Path) -> list[Path]:
    """Every Kepler, K2 and TESS light-curve file present, sorted by folder then name."""
    return [p for folder in LIGHTCURVE_FOLDERS for p in sorted((root / folder).glob("*.fits"))]


def manifest_files(root: Path) -> list[str]:
    """Paths (relative to ``root``) of the files MANIFEST.md lists in its tables."""
    return _MANIFEST_ROW.findall((root / "MANIFEST.md").read_text())


def fits_files(root: Path) -> list[Path]:
    """Every FITS file of the folder, whatever its kind (light curves, GALEX calibration, ...)."""
    return sorted(root.rglob("*.fits"))


def relative(root: Path, paths: list[Path]) -> list[str]:
    return [path.relative_to(root).as_posix() for path in paths]
