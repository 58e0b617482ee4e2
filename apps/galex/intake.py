"""Eclipse intake: register raw6 + aspect inputs (command, upload page, MAST fetch) as artifacts, linked to the targets in their field."""

from __future__ import annotations

import gzip
import tempfile
import zlib
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import transaction

from apps.archive.errors import ArchiveUnavailable
from apps.archive.fetch import VerificationFailed
from apps.archive.models import FileState
from apps.archive.services.remote import RemoteFile, archive_query, remote_files_fetch
from apps.catalog.models import Target
from apps.core.errors import InvalidInput, NotFound
from apps.core.files import data_root, resolve_data_path
from apps.galex.models import Eclipse, EclipseStatus, EclipseTarget
from apps.galex.science.aspect import (
    angular_separation_deg,
    build_aspect_solution,
    is_fits,
    load_aspect_tables,
    read_aspect,
    write_eclipse_aspect,
)
from apps.galex.science.errors import GalexError
from apps.galex.science.mast import (
    MastAnswerError,
    parse_raw_urls,
    raw6_local_name,
    raw_urls_query,
    scst_local_name,
)
from apps.galex.science.raw6 import Raw6Header, Raw6Reader, read_raw6_header
from apps.galex.science.scst import scst_tables
from apps.jobs.models import Job
from apps.jobs.services import artifact_store


def eclipse_register(
    *,
    raw6_path: Path,
    aspect_path: Path,
    eclipse_number: int | None = None,
    source: str = "raw6",
    label: str = "",
) -> Eclipse:
    """Record an eclipse from a raw6 file and its aspect; both stored as versioned artifacts.

    ``aspect_path`` is anything :func:`~apps.galex.science.aspect.load_aspect_tables` reads
    (gPhoton 2's table folder or ``aspect.parquet``, a MAST ``-scst`` file); the eclipse's own
    rows are kept, as one Parquet file. ``eclipse_number``, when given, must be the raw6
    header's. Registering the same eclipse, band and source again adds artifact versions.
    """
    raw6_path, aspect_path = Path(raw6_path), Path(aspect_path)
    header = _raw6_header(raw6_path, eclipse_number)
    try:
        asp, bore, metadata, notes, _ = load_aspect_tables(aspect_path, header.eclipse)
        legs = build_aspect_solution(asp, bore, header.eclipse, metadata, notes).legs
    except GalexError as exc:
        raise InvalidInput(f"aspect {aspect_path}: {exc}") from exc
    eclipse, _ = Eclipse.objects.get_or_create(number=header.eclipse, band=header.band, source=source)
    prefix = eclipse.artifact_prefix
    raw6 = artifact_store(key=f"{prefix}/input/raw6", kind="raw6", source=raw6_path, move=False,
                          meta={"file": raw6_path.name, "band": header.band})  # fmt: skip
    with tempfile.TemporaryDirectory(dir=data_root()) as folder:
        one = write_eclipse_aspect(Path(folder) / f"e{header.eclipse:05d}-aspect.parquet", asp, bore, metadata)
        aspect = artifact_store(key=f"{prefix}/input/aspect", kind="aspect", source=one,
                                meta={"file": one.name, "from": aspect_path.name})  # fmt: skip
    Eclipse.objects.filter(pk=eclipse.pk).update(
        raw6_path=raw6.path,
        aspect_path=aspect.path,
        inputs={raw6_path.name: raw6.sha256, f"aspect/{Path(aspect.path).name}": aspect.sha256},
        summary={"n_events": header.n_events},
        legs=len(legs),
        plan_type=str(metadata.get("plan_type") or "")[:16],
        status=EclipseStatus.REGISTERED,
        **({"label": label[:100]} if label else {}),
    )
    eclipse.refresh_from_db()
    eclipse_link_targets(eclipse=eclipse)
    return eclipse


def _raw6_header(raw6_path: Path, eclipse_number: int | None) -> Raw6Header:
    """The raw6 file's header, which must name ``eclipse_number`` when one is given."""
    try:
        header = read_raw6_header(raw6_path)
    except GalexError as exc:
        raise InvalidInput(f"{raw6_path.name}: {exc}") from exc
    if eclipse_number is not None and int(eclipse_number) != header.eclipse:
        raise InvalidInput(
            f"{raw6_path.name} holds eclipse {header.eclipse}, not {eclipse_number} (raw6 header ECLIPSE)"
        )
    return header


def _raw6_verifier(eclipse: int, band: str) -> Callable[[Path], None]:
    """A downloaded raw6 file must be whole (read to its gzip CRC) and of this eclipse and band."""

    def verify(path: Path) -> None:
        try:
            with Raw6Reader(path) as reader:
                for _ in reader.columns(4_000_000):
                    pass
                header = reader.header
        except GalexError as exc:
            raise VerificationFailed(str(exc)) from exc
        if (header.eclipse, header.band) != (eclipse, band):
            raise VerificationFailed(
                f"{path.name} holds e{header.eclipse:05d} {header.band}, not e{eclipse:05d} {band}",
                retryable=False,
            )

    return verify


def _scst_verifier(eclipse: int) -> Callable[[Path], None]:
    """A downloaded scst file must be whole (gzip CRC: astropy stops before it) and readable."""

    def verify(path: Path) -> None:
        try:
            if is_fits(path) and path.read_bytes()[:2] == b"\x1f\x8b":
                with gzip.open(path, "rb") as stream:
                    while stream.read(1 << 20):
                        pass
            scst_tables(path, eclipse)
        except (OSError, EOFError, zlib.error) as exc:
            raise VerificationFailed(f"{path.name} is corrupt: {exc}") from exc
        except GalexError as exc:
            raise VerificationFailed(str(exc)) from exc

    return verify


def _raw_urls_verifier(path: Path) -> None:
    try:
        parse_raw_urls(path.read_bytes())
    except MastAnswerError as exc:
        raise VerificationFailed(str(exc), retryable=exc.retryable) from exc


def eclipse_fetch(
    *,
    number: int,
    band: str,
    job: Job | None = None,
    max_attempts: int = 5,
    on_progress: Callable[[int, int, int], None] | None = None,
    policy_overrides: dict | None = None,
) -> tuple[Eclipse, dict]:
    """Download an eclipse's raw6 (one band) and scst from MAST, as gPhoton 2 finds them, and
    register it.

    The URLs come from gPhoton 2's ``spGetRawUrls`` query at ``GAIA_GALEX_MAST_URL``; the files
    go through the archive's ledger (verified, resumable, retried) to
    ``DATA_ROOT/archive/galex/e{N}/`` under gPhoton 2's names. Returns the eclipse and the
    download report.
    """
    band = band.strip().upper()
    if band not in ("NUV", "FUV"):
        raise InvalidInput(f"band must be NUV or FUV, not {band!r}")
    if not 1 <= int(number) <= 99_999:
        raise InvalidInput(f"eclipse must be a GALEX eclipse number (1..99999), not {number}")
    number = int(number)
    urls = _mast_urls(number, band, policy_overrides)
    files = _remote_files(number, band, urls)
    report = remote_files_fetch(files=files, job=job, max_attempts=max_attempts,
                                on_progress=on_progress, policy_overrides=policy_overrides)  # fmt: skip
    report["urls"] = {band: urls[band], "scst": urls["scst"]}
    if report["failures"] or any(state != FileState.VERIFIED for state in report["rows"].values()):
        reasons = "; ".join(f"{f['filename']}: {f['error']}" for f in report["failures"]) or str(report["rows"])
        raise ArchiveUnavailable(f"eclipse {number} {band} was not downloaded: {reasons}")
    eclipse = eclipse_register(raw6_path=files[0].local_path, aspect_path=files[1].local_path,
                               eclipse_number=number, source="raw6")  # fmt: skip
    return eclipse, report


def _mast_urls(number: int, band: str, policy_overrides: dict | None) -> dict[str, str | None]:
    """The eclipse's raw file URLs from MAST; refuses an eclipse without this band's raw6 or
    without an scst file."""
    query = raw_urls_query(settings.GAIA_GALEX_MAST_URL, number)
    body = archive_query(query, verify=_raw_urls_verifier, **(policy_overrides or {}))
    urls = parse_raw_urls(body)
    if not urls[band]:
        raise NotFound(f"MAST lists no {band} raw6 file for eclipse {number}")
    if not urls["scst"]:
        raise NotFound(f"MAST lists no spacecraft-state (aspect) file for eclipse {number}")
    return urls


def _remote_files(number: int, band: str, urls: dict[str, str | None]) -> list[RemoteFile]:
    """The raw6 and scst downloads under gPhoton 2's names, each with its verifier."""
    root = data_root() / "archive" / "galex"
    return [
        RemoteFile("galex", Path(raw6_local_name(number, band)).name, urls[band],
                   root / raw6_local_name(number, band), _raw6_verifier(number, band)),
        RemoteFile("galex", Path(scst_local_name(number)).name, urls["scst"],
                   root / scst_local_name(number), _scst_verifier(number)),
    ]  # fmt: skip


def _input_path(stored: str) -> Path:
    path = Path(stored)
    return path if path.is_absolute() else resolve_data_path(stored)


def eclipse_register_upload(
    *,
    raw6_path: Path,
    aspect_path: Path,
    eclipse_number: int | None = None,
    band: str | None = None,
    label: str = "",
) -> Eclipse:
    """:func:`eclipse_register` for files uploaded through the page, read whole before anything is kept.

    The command trusts a file on the server's disk as far as its header; an upload may be cut
    or corrupt anywhere, so the raw6 file is first read to its gzip CRC (as a downloaded one is)
    and checked against the band asked for. Every refusal comes before the Eclipse row or an
    artifact exists, so a bad upload leaves nothing behind.
    """
    raw6_path = Path(raw6_path)
    try:
        header = read_raw6_header(raw6_path)
    except GalexError as exc:
        raise InvalidInput(f"{raw6_path.name}: {exc}") from exc
    if band and band != header.band:
        raise InvalidInput(f"{raw6_path.name} holds the {header.band} band, not {band} (raw6 header BAND)")
    try:
        _raw6_verifier(header.eclipse, header.band)(raw6_path)
    except VerificationFailed as exc:
        raise InvalidInput(f"{raw6_path.name}: {exc}") from exc
    return eclipse_register(raw6_path=raw6_path, aspect_path=aspect_path, eclipse_number=eclipse_number, label=label)


FIELD_RADIUS_DEG = 0.6
"""A target is in an eclipse's field within this distance of a leg's boresight: between gPhoton 2's
soft and hard detector edges (350 and 370 pixels of 6", 0.58 and 0.62 deg)."""


def eclipse_link_targets(*, eclipse: Eclipse) -> int:
    """Link every catalogue target within ``FIELD_RADIUS_DEG`` of a leg's boresight to the eclipse;
    returns how many are linked (links of targets no longer in the field are removed)."""
    if eclipse.number is None or not eclipse.aspect_path:
        return 0
    try:
        legs = read_aspect(_input_path(eclipse.aspect_path), eclipse.number).legs
    except (GalexError, OSError, ValueError):
        return 0
    found: dict[int, tuple[int, float]] = {}
    for leg in legs:
        dec_lo, dec_hi = leg.dec0 - FIELD_RADIUS_DEG, leg.dec0 + FIELD_RADIUS_DEG
        rows = Target.objects.filter(ra__isnull=False, dec__gte=dec_lo, dec__lte=dec_hi).values_list("pk", "ra", "dec")
        for pk, ra, dec in rows:
            separation = angular_separation_deg(leg.ra0, leg.dec0, ra, dec)
            if separation <= FIELD_RADIUS_DEG and (pk not in found or separation < found[pk][1]):
                found[pk] = (leg.index, separation)
    with transaction.atomic():
        EclipseTarget.objects.filter(eclipse=eclipse).exclude(target_id__in=list(found)).delete()
        for pk, (leg, separation) in found.items():
            EclipseTarget.objects.update_or_create(
                eclipse=eclipse, target_id=pk, defaults={"leg": leg, "separation_deg": separation}
            )
    return len(found)
