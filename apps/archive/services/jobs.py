"""Queue archive work as Jobs: downloads (downloads queue), ingest and table imports."""

from __future__ import annotations

from collections.abc import Sequence

from apps.archive.clients import transport_for
from apps.archive.params import IngestParams, TablesParams
from apps.archive.services.downloads import MISSIONS, DownloadSpec
from apps.archive.services.tables import TABLES
from apps.catalog.models import Target
from apps.core.bounds import params_validate
from apps.core.errors import InvalidInput
from apps.jobs.models import Job
from apps.jobs.services import job_enqueue

DOWNLOAD_KIND = "archive_download"
INGEST_KIND = "archive_ingest"
TABLES_KIND = "archive_import_tables"


def download_enqueue(*, spec: DownloadSpec, user=None) -> Job:  # noqa: ANN001 - a django user or None
    """Queue an ``archive_download`` job for the spec (validated first)."""
    spec.validate()
    targets = Target.objects.filter(
        mission=spec.mission, identifier__in=[str(i) for i in spec.identifiers]
    )
    return job_enqueue(kind=DOWNLOAD_KIND, params=spec.as_params(), targets=targets, user=user)


def targets_fetch_enqueue(*, targets: Sequence[Target], user=None) -> list[Job]:  # noqa: ANN001
    """Queue "fetch all light curves" for targets: one job per mission among them."""
    by_mission: dict[str, list[Target]] = {}
    for target in targets:
        if target.mission not in MISSIONS:
            raise InvalidInput(
                f"{target.display_id}: {target.get_mission_display()} light curves are not fetched from MAST"
            )
        by_mission.setdefault(target.mission, []).append(target)
    if not by_mission:
        raise InvalidInput("no targets selected")
    return [
        download_enqueue(
            spec=DownloadSpec(mission=mission, identifiers=[int(t.identifier) for t in group]),
            user=user,
        )
        for mission, group in sorted(by_mission.items())
    ]


def ingest_enqueue(*, file_ids: Sequence[int], user=None, parent: Job | None = None) -> Job:  # noqa: ANN001
    """Queue an ``archive_ingest`` job (cpu queue) for verified ledger rows."""
    params = {"file_ids": list(file_ids), "parent_job_id": parent.pk if parent else None}
    targets = parent.targets.all() if parent else ()
    # A download queues its own ingest: the download was authorised, its follow-up needs no new check.
    return job_enqueue(kind=INGEST_KIND, params=params, targets=targets, user=user, authorize=parent is None)


def tables_enqueue(
    *,
    names: Sequence[str],
    source: str = "tap",
    limit: int | None = None,
    user=None,
) -> Job:  # noqa: ANN001
    """Queue an ``archive_import_tables`` job (TAP download, or the exports in GAIA_DEMO_DATA)."""
    params = {"names": list(names), "source": source, "limit": limit}
    return job_enqueue(kind=TABLES_KIND, params=params, user=user)


def download_params_validate(params: dict) -> dict:
    """An ``archive_download`` request (``DownloadParams`` + ``DownloadSpec.validate``), normalised."""
    spec = DownloadSpec.from_params(params)
    if spec.source == "mirror":
        transport_for(source=spec.source)  # GAIA_ARCHIVE_MIRROR_ROOT must name an existing folder
    return spec.as_params()


def ingest_params_validate(params: dict) -> dict:
    return params_validate(IngestParams, params, what="archive_ingest").model_dump()


def tables_params_validate(params: dict) -> dict:
    clean = params_validate(TablesParams, params, what="archive_import_tables")
    unknown = [n for n in clean.names if n not in TABLES]
    if unknown:
        raise InvalidInput(f"unknown table(s) {', '.join(unknown)}; known: {', '.join(TABLES)}")
    return clean.model_dump()
