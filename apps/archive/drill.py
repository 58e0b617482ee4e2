"""Fault-drill kinds of the archive app (``manage.py fault_drill``): download and ingest.

``download`` fetches twelve quarters of KIC 2306740 from the local fake archive
(:mod:`apps.archive.testing_server`, started here, bodies slowed so a kill lands mid-transfer);
``ingest`` turns the demo Kepler files of the other stars (Kepler-90, Kepler-6, Boyajian's star,
TrES-2) and the six demo TESS files into Parquet series. Both start each job from the same state (the files and rows of the
previous job removed) and compare, per file, the sha256 of what the job left on disk; the ledger
must end with every file in its final state.

:func:`eclipsing_binary_world` serves other apps' drills: eight quarters of KIC 2306740 ingested
and its three DR24 TCEs imported.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pandas as pd
from django.conf import settings

from apps.archive.models import ArchiveFile, FileState
from apps.archive.science.naming import kepler_names, parse_name
from apps.archive.services import DownloadSpec, catalog_import_table, ledger_ensure
from apps.archive.services.ingest import lightcurves_ingest_files
from apps.archive.testing_server import FakeArchive
from apps.catalog.models import LightCurve, Target
from apps.catalog.services import lightcurves_delete
from apps.core.files import data_root, sha256_file
from apps.jobs.drill import DrillSetup, Scenario, register_scenario
from apps.jobs.models import Job

ECLIPSING_BINARY = 2306740
DOWNLOAD_QUARTERS = [1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13]
WORLD_QUARTERS = [1, 2, 3, 5, 6, 7, 8, 9]


def _demo_kepler(name: str) -> Path:
    return Path(settings.GAIA_DEMO_DATA) / ("tess" if name.startswith("tess") else "kepler") / name


def eclipsing_binary_world() -> Target:
    """KIC 2306740 with eight demo quarters ingested and its three DR24 TCEs (idempotent)."""
    folder = Path(settings.GAIA_DEMO_DATA) / "catalogs"
    table = sorted(folder.glob("q1_q17_dr24_tce*.csv"))[0]
    frame = pd.read_csv(table, comment="#")
    catalog_import_table(name="dr24_tce", path_or_rows=frame[frame["kepid"] == ECLIPSING_BINARY])
    names = kepler_names(ECLIPSING_BINARY, cadence="long", quarters=WORLD_QUARTERS)
    lightcurves_ingest_files(paths=[_demo_kepler(n.filename) for n in names if _demo_kepler(n.filename).exists()])
    return Target.objects.get(mission="kepler", identifier=str(ECLIPSING_BINARY))


# -- ingest ------------------------------------------------------------------------------------------
def _files_of(setup: DrillSetup) -> list[ArchiveFile]:
    return list(ArchiveFile.objects.filter(pk__in=setup.state["ids"]).order_by("filename"))


def _ingest_prepare() -> DrillSetup:
    demo = Path(settings.GAIA_DEMO_DATA)
    files = sorted(demo.glob("kepler/kplr*.fits")) + sorted(demo.glob("tess/tess*.fits"))
    names = [parse_name(p.name) for p in files if not p.name.startswith(f"kplr{ECLIPSING_BINARY:09d}")]
    rows = ledger_ensure(names=names)
    return DrillSetup(params={"file_ids": [row.pk for row in rows]}, state={"ids": [row.pk for row in rows]})


def _ingest_reset(setup: DrillSetup) -> None:
    """Verified raw files waiting for their ingest; no series and no LightCurve rows yet."""
    rows = _files_of(setup)
    names = [row.filename for row in rows]
    lightcurves_delete(source_filenames=names)
    for row in rows:
        source, local = _demo_kepler(row.filename), data_root() / row.local_path
        if not local.exists():
            local.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, local)
        ArchiveFile.objects.filter(pk=row.pk).update(
            state=FileState.VERIFIED, sha256=sha256_file(local), bytes=local.stat().st_size,
            lightcurve=None, last_error="",
        )  # fmt: skip


def _ingest_outputs(job: Job, setup: DrillSetup) -> dict[str, str]:
    names = [row.filename for row in _files_of(setup)]
    out = {}
    for curve in LightCurve.objects.filter(source_filename__in=names):
        row = (curve.quarter_or_sector, curve.cadence, curve.n_points, curve.time_start, curve.time_end,
               curve.parquet_path, curve.source_sha256)  # fmt: skip
        out[f"series {curve.source_filename}"] = sha256_file(data_root() / curve.parquet_path)
        out[f"row {curve.source_filename}"] = hashlib.sha256(repr(row).encode()).hexdigest()
    return out


def _ingest_problems(job: Job, setup: DrillSetup) -> list[str]:
    rows = _files_of(setup)
    problems = [f"{r.filename}: ledger {r.state}" for r in rows if r.state != FileState.INGESTED or not r.lightcurve_id]
    curves = LightCurve.objects.filter(source_filename__in=[r.filename for r in rows]).count()
    if curves != len(rows):
        problems.append(f"{curves} LightCurve rows for {len(rows)} files")
    accounted = job.result.get("ingested", 0) + job.result.get("already_ingested", 0)
    if accounted != len(rows) or job.result.get("failed"):
        problems.append(f"report: {accounted} ingested (new or earlier), {job.result.get('failed')} failed")
    return problems


register_scenario(
    Scenario(
        name="ingest", job_kind="archive_ingest", queue="cpu", prepare=_ingest_prepare,
        reset=_ingest_reset, outputs=_ingest_outputs, problems=_ingest_problems,
        compared="sha256 of each Parquet series and a digest of each LightCurve row (14 files)",
    )
)  # fmt: skip


# -- download ----------------------------------------------------------------------------------------
def _download_prepare() -> DrillSetup:
    server = FakeArchive(Path(settings.GAIA_DEMO_DATA)).start()
    server.chunk_delay_s = 0.02  # ~0.6 s a file: kills land mid-body, and resumes are exercised
    spec = DownloadSpec(
        mission="kepler", identifiers=[ECLIPSING_BINARY], seasons=DOWNLOAD_QUARTERS, ingest=False,
        concurrency=4,
    )  # fmt: skip
    spec.validate()
    names = [n.filename for n in kepler_names(ECLIPSING_BINARY, cadence="long", quarters=DOWNLOAD_QUARTERS)]
    env = {"GAIA_MAST_URL": server.url, "GAIA_MAST_ARCHIVE_URL": server.url, "GAIA_EXOARCHIVE_URL": server.url}
    return DrillSetup(params=spec.as_params(), env=env, state={"server": server, "names": names})


def _download_rows(setup: DrillSetup) -> list[ArchiveFile]:
    return list(ArchiveFile.objects.filter(filename__in=setup.state["names"]).order_by("filename"))


def _download_reset(setup: DrillSetup) -> None:
    """Nothing downloaded yet: no ledger rows, no files, no partial files."""
    for row in _download_rows(setup):
        local = data_root() / row.local_path
        local.unlink(missing_ok=True)
        local.with_name(local.name + ".part").unlink(missing_ok=True)
    ArchiveFile.objects.filter(filename__in=setup.state["names"]).delete()


def _download_outputs(job: Job, setup: DrillSetup) -> dict[str, str]:
    out = {}
    for row in _download_rows(setup):
        local = data_root() / row.local_path
        out[row.filename] = f"{row.state}:{sha256_file(local) if local.exists() else '-'}"
    return out


def _download_problems(job: Job, setup: DrillSetup) -> list[str]:
    server: FakeArchive = setup.state["server"]
    rows = _download_rows(setup)
    problems = [] if len(rows) == len(setup.state["names"]) else [f"{len(rows)} ledger rows"]
    for row in rows:
        local = data_root() / row.local_path
        if row.state != FileState.VERIFIED:
            problems.append(f"{row.filename}: ledger {row.state} ({row.last_error[:80]})")
        elif not local.exists() or sha256_file(local) != row.sha256:
            problems.append(f"{row.filename}: file does not match the ledger's sha256")
        elif row.sha256 != sha256_file(server.files[row.filename]):
            problems.append(f"{row.filename}: sha256 differs from the archive's file")
    if job.result.get("failures"):
        problems.append(f"report lists {len(job.result['failures'])} failures")
    return problems


def _download_teardown(setup: DrillSetup) -> None:
    setup.state["server"].stop()


register_scenario(
    Scenario(
        name="download", job_kind="archive_download", queue="downloads", prepare=_download_prepare,
        reset=_download_reset, outputs=_download_outputs, problems=_download_problems,
        teardown=_download_teardown,
        compared="ledger state and sha256 of each downloaded file (12 quarters from the local fake archive)",
    )
)  # fmt: skip
