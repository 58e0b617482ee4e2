"""FITS light curve -> verified Parquet series + LightCurve row (+ Target filled from headers).

Files are processed in batches: each file is read, verified and converted on its own (one bad
file never stops the others), the batch's Parquet files are made durable together
(:mod:`apps.archive.durable`: one filesystem sync instead of one fsync per file), and only then
are the database rows written, in one transaction. A row therefore never points at a
file that a crash could lose. Re-ingesting a file updates the same LightCurve row.

Series are written in the staging folder (``apps.core.files.staging_dir``, emptied when a job
starts and ends) and renamed into place, so a killed run leaves no partial file among the
products. A file that cannot be written or published (a full disk: "No space left on device")
fails alone with that reason and stays verified in the ledger, to be ingested again once there
is room; it is not "rejected", which means the bytes themselves are unusable.
"""

from __future__ import annotations

import hashlib
import math
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.archive.durable import publish_each
from apps.archive.models import ArchiveFile, FileState
from apps.archive.science.errors import ArchiveDataError, UnknownMission
from apps.archive.science.lightcurve_file import LightCurveFile, read_lightcurve
from apps.archive.science.naming import parse_name
from apps.archive.science.series import TIME_SYSTEM, series_table, write_series
from apps.catalog.models import LightCurve
from apps.catalog.services import lightcurves_upsert, targets_upsert
from apps.core.errors import InvalidInput
from apps.core.files import data_root, relative_data_path, staging_dir
from apps.core.storage import product_delete, products_are_local, products_upload
from apps.jobs.models import Job
from apps.jobs.runner import code_version

READER = "apps.archive.science (numpy FITS reader, own CHECKSUM/DATASUM check)"


@dataclass
class IngestOutcome:
    """What happened to one file: its LightCurve row, or the reason it was rejected."""

    path: Path
    lightcurve: LightCurve | None = None
    error: str = ""
    local: OSError | None = None
    """Set when the file failed for a local reason (a full disk), not because of its content."""


@dataclass
class _Prepared:
    path: Path
    sha256: str
    size: int
    lc: LightCurveFile
    final: Path
    tmp: Path = field(default=Path())


def series_path(*, mission: str, identifier: int, filename: str, sha256: str) -> Path:
    """DATA_ROOT/lightcurves/<mission>/<id mod 1000>/<id>/<file stem>.<sha256[:12]>.parquet.

    The content hash in the name versions the series: a new file release gets a new path while
    readers of the old one finish undisturbed; the same file always maps to the same path.
    """
    stem = filename[:-5] if filename.endswith(".fits") else filename
    folder = data_root() / "lightcurves" / mission / f"{identifier % 1000:03d}" / str(identifier)
    return folder / f"{stem}.{sha256[:12]}.parquet"


def _prepare(path: Path, sha256: str | None) -> _Prepared:
    try:
        buf = path.read_bytes()
    except OSError as exc:
        raise ArchiveDataError(f"cannot read file ({exc.strerror or exc})") from exc
    digest = sha256 or hashlib.sha256(buf).hexdigest()
    lc = read_lightcurve(buf)
    _check_name(path.name, lc)
    start, end = lc.time_range
    if not (math.isfinite(start) and math.isfinite(end)):
        raise ArchiveDataError("no finite time stamps")
    final = series_path(
        mission=lc.mission, identifier=lc.identifier, filename=path.name, sha256=digest
    )
    return _Prepared(path=path, sha256=digest, size=len(buf), lc=lc, final=final)


def _check_name(filename: str, lc: LightCurveFile) -> None:
    """An archive-named file must describe the star its name says (catches mix-ups)."""
    try:
        name = parse_name(filename)
    except UnknownMission:
        return  # a user's own file name: the headers alone identify it
    if (name.mission, name.identifier) != (lc.mission, lc.identifier):
        raise ArchiveDataError(
            f"file name says {name.mission} {name.identifier} but the headers say {lc.mission} {lc.identifier}"
        )


def _write(prepared: _Prepared) -> None:
    prepared.tmp = staging_dir() / f"{prepared.final.name}.{uuid.uuid4().hex[:8]}.part"
    try:
        if products_are_local():
            prepared.final.parent.mkdir(parents=True, exist_ok=True)
        table = series_table(prepared.lc, source_name=prepared.path.name, source_sha256=prepared.sha256)
        write_series(table, prepared.tmp)
    except BaseException:
        prepared.tmp.unlink(missing_ok=True)  # a half-written series must not stay behind
        raise


def _publish(batch: list[_Prepared]) -> list[OSError | None]:
    """Make the batch's series durable in place (renamed on the disk, uploaded to an object store:
    ``apps.core.storage``); per file, None or the error that kept it out."""
    if products_are_local():
        errors = publish_each([(prepared.tmp, prepared.final) for prepared in batch])
    else:
        errors = products_upload([(prepared.tmp, relative_data_path(prepared.final)) for prepared in batch])
    for prepared, error in zip(batch, errors, strict=True):
        if error is not None:
            prepared.tmp.unlink(missing_ok=True)
    return errors


def _local_failure(outcome: IngestOutcome, exc: OSError) -> None:
    outcome.local = exc
    outcome.error = f"{outcome.path.name}: local file error: {exc.strerror or exc}" + (
        f" ({exc.filename})" if exc.filename else ""
    )


def _provenance(prepared: _Prepared, job: Job | None) -> dict:
    primary = prepared.lc.primary
    return {
        "code_version": code_version(),
        "ingested_at": timezone.now().isoformat(),
        "reader": READER,
        "source_bytes": prepared.size,
        "data_release": primary.get("DATA_REL"),
        "pipeline_version": primary.get("PROCVER"),
        "checksum_verified": "CHECKSUM" in primary,
        "quality_bitmask": prepared.lc.quality_bitmask,
        "quality_convention": "lightkurve default",
        "job_id": job.pk if job else None,
    }


def _record(batch: list[_Prepared], job: Job | None) -> list[LightCurve]:
    """Upsert targets, LightCurve rows and ledger states for a durable batch (one transaction)."""
    rows: list[LightCurve] = []
    with transaction.atomic():
        target_ids: dict[tuple[str, str], int] = {}
        for mission in {p.lc.mission for p in batch}:
            header_rows = [
                {"identifier": p.lc.identifier, **p.lc.stellar}
                for p in batch
                if p.lc.mission == mission
            ]
            ids, _counts = targets_upsert(
                mission=mission, rows=header_rows, stellar_source="header", fill_only=True
            )
            target_ids.update({(mission, key): pk for key, pk in ids.items()})
        for prepared in batch:
            lc = prepared.lc
            start, end = lc.time_range
            rows.append(
                LightCurve(
                    target_id=target_ids[(lc.mission, str(lc.identifier))],
                    mission=lc.mission,
                    quarter_or_sector=lc.season,
                    cadence=lc.cadence,
                    n_points=lc.n_points,
                    time_start=start,
                    time_end=end,
                    time_system=TIME_SYSTEM[lc.mission],
                    parquet_path=relative_data_path(prepared.final),
                    source_filename=prepared.path.name,
                    source_sha256=prepared.sha256,
                    provenance=_provenance(prepared, job),
                )
            )
        old_paths = lightcurves_upsert(rows=rows)
        _mark_ledger(rows)
        stale = [old for name, old in old_paths.items() if old and old != _path_of(rows, name)]
        transaction.on_commit(lambda: [product_delete(relative) for relative in stale])
    return rows


def _path_of(rows: list[LightCurve], filename: str) -> str:
    return next(r.parquet_path for r in rows if r.source_filename == filename)


def _mark_ledger(rows: list[LightCurve]) -> None:
    now = timezone.now()
    for row in rows:
        ArchiveFile.objects.filter(mission=row.mission, filename=row.source_filename).update(
            state=FileState.INGESTED,
            lightcurve_id=row.pk,
            target_id=row.target_id,
            ingested_at=now,
            last_error="",
        )


def lightcurves_ingest_files(
    *,
    paths: Sequence[Path],
    sha256s: dict[str, str] | None = None,
    job: Job | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    batch_size: int = 64,
) -> list[IngestOutcome]:
    """Ingest many FITS light curves; each file succeeds or fails on its own.

    Parameters
    ----------
    paths : sequence of Path
        Local Kepler/K2/TESS light-curve files.
    sha256s : dict, optional
        File name -> sha256 already known (e.g. computed while downloading); others are hashed.
    job : Job, optional
        Recorded in each row's provenance.
    on_progress : callable, optional
        Called as ``on_progress(done, total)`` after each batch.
    batch_size : int
        Files per durable batch (one filesystem sync and one transaction each).

    Returns
    -------
    list of IngestOutcome
        In the order of ``paths``; ``error`` says why a file was rejected.
    """
    sha256s = sha256s or {}
    outcomes: list[IngestOutcome] = []
    for start in range(0, len(paths), batch_size):
        outcomes.extend(
            _ingest_batch([Path(p) for p in paths[start : start + batch_size]], sha256s, job)
        )
        if on_progress:
            on_progress(len(outcomes), len(paths))
    return outcomes


def _ingest_batch(
    paths: list[Path], sha256s: dict[str, str], job: Job | None
) -> list[IngestOutcome]:
    outcomes = {path: IngestOutcome(path=path) for path in paths}
    ready: list[_Prepared] = []
    for path in paths:
        try:
            prepared = _prepare(path, sha256s.get(path.name))
            _write(prepared)
        except ArchiveDataError as exc:
            outcomes[path].error = f"{path.name}: {exc}"
            continue
        except OSError as exc:  # e.g. ENOSPC: this file fails, the others go on
            _local_failure(outcomes[path], exc)
            continue
        ready.append(prepared)
    ready = _one_per_name(ready, outcomes)
    if ready:
        errors = _publish(ready)
        for prepared, error in zip(ready, errors, strict=True):
            if error is not None:
                _local_failure(outcomes[prepared.path], error)
        ready = [prepared for prepared, error in zip(ready, errors, strict=True) if error is None]
    if ready:
        try:
            rows = _record(ready, job)
        except IntegrityError:
            # Another worker ingested some of these files at the same moment: redo one by one.
            rows = [_record([prepared], job)[0] for prepared in ready]
        for prepared, row in zip(ready, rows, strict=True):
            outcomes[prepared.path].lightcurve = row
    _mark_rejected([o for o in outcomes.values() if o.error])
    return [outcomes[path] for path in paths]


def _one_per_name(ready: list[_Prepared], outcomes: dict[Path, IngestOutcome]) -> list[_Prepared]:
    """Two paths with the same file name in one batch would be one row: keep the first."""
    seen: set[tuple[str, str]] = set()
    kept: list[_Prepared] = []
    for prepared in ready:
        key = (prepared.lc.mission, prepared.path.name)
        if key in seen:
            outcomes[prepared.path].error = f"{prepared.path.name}: same file name given twice"
            prepared.tmp.unlink(missing_ok=True)
            continue
        seen.add(key)
        kept.append(prepared)
    return kept


def _mark_rejected(failed: list[IngestOutcome]) -> None:
    """Unusable files become rejected; files that failed for a local reason stay verified (they
    are ingested again by the next run) with the reason recorded."""
    for outcome in failed:
        state = FileState.VERIFIED if outcome.local else FileState.REJECTED
        ArchiveFile.objects.filter(filename=outcome.path.name, state=FileState.VERIFIED).update(
            state=state, last_error=outcome.error[:2000]
        )


def lightcurve_ingest_file(
    *, path: Path, source_sha256: str | None = None, job: Job | None = None
) -> LightCurve:
    """Ingest one local Kepler/K2/TESS light-curve FITS file and return its LightCurve row.

    The file is verified (structure, CHECKSUM/DATASUM where present, expected columns), its
    series written as zstd Parquet under DATA_ROOT (atomically, durably), its Target created or
    completed from the headers (only parameters the target lacks; ``stellar_source="header"``),
    and the LightCurve row created or updated (unique per mission and file name).

    Parameters
    ----------
    path : Path
        The FITS file (its original archive name is expected but not required).
    source_sha256 : str, optional
        The file's sha256 when already known (skips hashing it again).
    job : Job, optional
        The job doing the work, for provenance.

    Raises
    ------
    InvalidInput
        The file is unreadable, corrupt, truncated, of an unknown mission or lacks columns.
    """
    [outcome] = _ingest_batch(
        [Path(path)], {Path(path).name: source_sha256} if source_sha256 else {}, job
    )
    if outcome.local is not None:
        raise OSError(outcome.local.errno, outcome.error)
    if outcome.error:
        raise InvalidInput(outcome.error)
    return LightCurve.objects.select_related("target").get(pk=outcome.lightcurve.pk)
