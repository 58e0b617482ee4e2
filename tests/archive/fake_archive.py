"""The fake MAST/Exoplanet Archive server now lives in :mod:`apps.archive.testing_server` (the
fault drill starts it too); this name stays for the tests and ``python tests/archive/fake_archive.py``."""

from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__":  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from apps.archive.testing_server import TAP_TABLES, TESS_NAME, FakeArchive, Fault, Logged, main  # noqa: E402

__all__ = ["TAP_TABLES", "TESS_NAME", "FakeArchive", "Fault", "Logged", "main"]

if __name__ == "__main__":
    main()
