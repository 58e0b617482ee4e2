"""Archive test fixtures: a real local archive server, a private DATA_ROOT, copies of demo files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.archive.fake_archive import FakeArchive

#: Kepler-90 (KIC 11442793): three long-cadence quarters in the demo data (Q3, Q4 part 1, Q5).
KEPLER90 = 11442793
#: KIC 2306740: all 17 long-cadence quarters Q1-Q17 (Q0 and the Q4 first segment do not exist).
ECLIPSING_BINARY = 2306740


@pytest.fixture
def fake_archive(demo_data: Path, settings) -> FakeArchive:  # noqa: ANN001 - pytest-django settings
    """The fake MAST/Exoplanet Archive, with every archive URL setting pointing at it."""
    with FakeArchive(demo_data) as archive:
        settings.GAIA_MAST_URL = archive.url
        settings.GAIA_MAST_ARCHIVE_URL = archive.url
        settings.GAIA_EXOARCHIVE_URL = archive.url
        yield archive


@pytest.fixture
def data_root(tmp_path: Path, settings) -> Path:  # noqa: ANN001
    """A private, empty DATA_ROOT for one test."""
    root = tmp_path / "data_root"
    root.mkdir()
    settings.DATA_ROOT = root
    return root


@pytest.fixture
def kepler_file(demo_data: Path):  # noqa: ANN201
    """Path of one demo Kepler file, by KIC and time stamp."""

    def find(kic: int, stamp: str) -> Path:
        return demo_data / "kepler" / f"kplr{kic:09d}-{stamp}_llc.fits"

    return find


@pytest.fixture
def writable_copy(tmp_path: Path):  # noqa: ANN201
    """Copy a demo file into tmp_path (keeping its name) so a test may damage it."""

    def copy(source: Path) -> Path:
        target = tmp_path / "copies" / source.name
        target.parent.mkdir(exist_ok=True)
        shutil.copyfile(source, target)
        return target

    return copy
