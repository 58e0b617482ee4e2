"""Writes for jobs and artifacts: enqueue, cancel, and store a new artifact version."""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from apps.catalog.models import Target
from apps.core.errors import Conflict, InvalidInput
from apps.core.files import data_root, relative_data_path, sha256_file
from apps.jobs.models import Artifact, Job, JobStatus
from apps.jobs.registry import actor_for
from apps.jobs.runner import run_job


def job_enqueue(
    *,
    kind: str,
    params: dict[str, Any] | None = None,
    targets: Iterable[Target] = (),
    user=None,  # noqa: ANN001 - a django user or None
) -> Job:
    """Create a queued Job and send its message once the surrounding transaction commits."""
    try:
        actor = actor_for(kind)
    except KeyError as exc:
        raise InvalidInput(str(exc.args[0])) from exc
    params = actor.validate_params(dict(params or {}))
    job = Job.objects.create(
        kind=kind,
        params=params,
        queue_name=actor.queue_name,
        requested_by=user if getattr(user, "is_authenticated", False) else None,
    )
    target_list = list(targets)
    if target_list:
        job.targets.set(target_list)
    message = actor.message(job.pk)
    Job.objects.filter(pk=job.pk).update(message_id=message.message_id)
    job.message_id = message.message_id
    if settings.GAIA_JOBS_EAGER:
        transaction.on_commit(lambda: run_job(job.pk, actor.job_body, retries_left=False))
    else:
        transaction.on_commit(lambda: actor.broker.enqueue(message))
    return job


def job_cancel(*, job: Job) -> Job:
    """Cancel a queued job at once; ask a running one to stop at its next checkpoint."""
    if job.is_finished:
        raise Conflict(f"job {job.pk} already {job.status}")
    now = timezone.now()
    updated = Job.objects.filter(pk=job.pk, status=JobStatus.QUEUED).update(
        status=JobStatus.CANCELLED, cancel_requested=True, finished_at=now, stage="cancelled before start"
    )
    if not updated:
        Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(cancel_requested=True)
    job.refresh_from_db()
    return job


def artifact_next_version(key: str) -> int:
    current = Artifact.objects.filter(key=key).aggregate(v=Max("version"))["v"]
    return (current or 0) + 1


def artifact_path(*, key: str, version: int, filename: str) -> Path:
    """Where version ``version`` of an artifact lives: DATA_ROOT/artifacts/<key>/v<version>/<file>."""
    safe_key = key.strip("/").replace("..", "_")
    return data_root() / "artifacts" / safe_key / f"v{version}" / filename


def artifact_store(
    *,
    key: str,
    kind: str,
    source: Path,
    job: Job | None = None,
    target: Target | None = None,
    meta: dict | None = None,
    provenance: dict | None = None,
    move: bool = True,
) -> Artifact:
    """Record ``source`` as the next version of ``key``; earlier versions are never touched."""
    source = Path(source)
    if not source.is_file():
        raise InvalidInput(f"artifact source {source} does not exist")
    for _attempt in range(5):
        version = artifact_next_version(key)
        final = artifact_path(key=key, version=version, filename=source.name)
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists():
            # A crashed earlier attempt left the file but no row: that version number is burnt.
            continue
        if move:
            shutil.move(str(source), final)
        else:
            shutil.copy2(source, final)
        try:
            with transaction.atomic():
                return Artifact.objects.create(
                    job=job,
                    kind=kind,
                    key=key,
                    version=version,
                    path=relative_data_path(final),
                    sha256=sha256_file(final),
                    size_bytes=final.stat().st_size,
                    target=target,
                    meta=meta or {},
                    provenance=provenance or {},
                )
        except IntegrityError:
            # Another worker took this version number meanwhile; try the next one.
            if move:
                shutil.move(str(final), source)
            else:
                final.unlink(missing_ok=True)
            continue
    raise Conflict(f"could not allocate a version for artifact {key}")
