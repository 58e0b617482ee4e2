"""Where archive files come from and go: MAST/TAP URLs from settings, local paths, verifiers."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings

from apps.archive.fetch import FetchPolicy, Transport, VerificationFailed
from apps.archive.mirror import MirrorTransport
from apps.archive.science.errors import ArchiveDataError
from apps.archive.science.fits import verify_fits
from apps.archive.science.naming import ArchiveName, parse_sector_script
from apps.core.errors import InvalidInput
from apps.core.files import data_root

SOURCES = ("mast", "mirror")


def mast_download_url(name: ArchiveName) -> str:
    """The MAST download-service URL of a light-curve file (base from ``GAIA_MAST_URL``)."""
    base = settings.GAIA_MAST_URL.rstrip("/")
    # The service answers both forms; these are the ones MAST itself documents per mission.
    endpoint = "file/?uri=" if name.mission == "tess" else "file?uri="
    return f"{base}/api/v0.1/Download/{endpoint}{name.uri}"


def tess_script_url(sector: int) -> str:
    """The per-sector bulk-download script that lists every 2-min light curve of a sector."""
    base = settings.GAIA_MAST_ARCHIVE_URL.rstrip("/")
    return f"{base}/missions/tess/download_scripts/sector/tesscurl_sector_{sector}_lc.sh"


def tap_url(query: str) -> str:
    """A synchronous Exoplanet Archive TAP query answering CSV."""
    base = settings.GAIA_EXOARCHIVE_URL.rstrip("/")
    return f"{base}/TAP/sync?{urlencode({'query': query, 'format': 'csv'})}"


def raw_path(name: ArchiveName) -> Path:
    """Where a downloaded file is kept under DATA_ROOT (sharded like the archive)."""
    root = data_root() / "archive" / name.mission
    if name.mission == "kepler":
        kic = f"{name.identifier:09d}"
        return root / kic[:4] / kic / name.filename
    if name.mission == "k2":
        return root / f"c{name.season:02d}" / name.filename
    return root / f"s{name.season:04d}" / name.filename


def fetch_policy(*, concurrency: int | None = None, **overrides: float) -> FetchPolicy:
    """The download policy, with ``GAIA_DOWNLOAD_CONCURRENCY`` requests in flight by default."""
    concurrency = int(concurrency or settings.GAIA_DOWNLOAD_CONCURRENCY)
    if not 1 <= concurrency <= 256:
        raise InvalidInput(f"concurrency must be between 1 and 256, not {concurrency}")
    return FetchPolicy(concurrency=concurrency, **overrides)


def mirror_root_for(mirror_root: str | Path | None = None) -> str | Path | None:
    """The mirror folder to read: the one given (command line, tests) or GAIA_ARCHIVE_MIRROR_ROOT."""
    return mirror_root or settings.GAIA_ARCHIVE_MIRROR_ROOT or None


def transport_for(
    *, source: str = "mast", mirror_root: str | Path | None = None
) -> Transport | None:
    """None for the real archive; a :class:`MirrorTransport` for ``source="mirror"``.

    Job parameters never carry a folder: jobs pass no ``mirror_root`` and read the setting.
    """
    if source not in SOURCES:
        raise InvalidInput(f"unknown source {source!r}; use one of {', '.join(SOURCES)}")
    if source == "mast":
        return None
    mirror_root = mirror_root_for(mirror_root)
    if not mirror_root:
        raise InvalidInput("source 'mirror' needs a mirror folder: set GAIA_ARCHIVE_MIRROR_ROOT")
    try:
        return MirrorTransport(Path(mirror_root))
    except FileNotFoundError as exc:
        raise InvalidInput(str(exc)) from exc


def verify_fits_file(path: Path) -> None:
    """Verifier for light-curve downloads: FITS structure, sizes and CHECKSUM/DATASUM."""
    try:
        verify_fits(path.read_bytes())
    except ArchiveDataError as exc:
        raise VerificationFailed(str(exc)) from exc


def verify_csv_answer(path: Path) -> None:
    """Verifier for TAP answers: the Archive reports query errors in the body, not the status."""
    with open(path, "rb") as handle:
        head = handle.read(512).lstrip()
    if not head:
        raise VerificationFailed("empty answer", retryable=True)
    if head.startswith((b"ERROR", b"<?xml", b"<VOTABLE", b"<!DOCTYPE", b"<html")):
        text = head[:200].decode("utf-8", errors="replace")
        raise VerificationFailed(f"the archive answered an error: {text}", retryable=False)


def script_verifier(sector: int):  # noqa: ANN201 - returns a verify callable
    """Verifier for a TESS sector script: it must list light curves of that sector."""

    def verify(path: Path) -> None:
        try:
            parse_sector_script(path.read_text(errors="replace"), sector=sector)
        except ArchiveDataError as exc:
            raise VerificationFailed(str(exc), retryable=False) from exc

    return verify
