"""Writes for jobs and artifacts: enqueue, cancel, and store a new artifact version."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Max, Model
from django.utils import timezone

from apps.accounts.permissions import ADMINISTER, MANAGE_JOBS, job_permission, needs_login, user_can
from apps.core.errors import (
    AuthenticationRequired,
    Conflict,
    InvalidInput,
    PermissionDeniedError,
    RateLimited,
)
from apps.core.files import (
    data_root,
    relative_data_path,
    staging_copy,
    staging_scope_name,
)
from apps.core.storage import product_delete, product_local_path, product_save_exclusive
from apps.jobs.dispatch import job_dispatch
from apps.jobs.fanout import job_children_settle
from apps.jobs.models import Artifact, Job, JobStatus
from apps.jobs.publication import intent_path
from apps.jobs.registry import actor_for
from apps.jobs.runner import run_job

ACTIVE_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)
RATE_WINDOW = timedelta(minutes=1)


def job_authorize(*, user, kind: str, params: dict[str, Any], target_ids: list[int]) -> None:  # noqa: ANN001
    """Refuse (401/403) unless ``user`` may queue ``kind`` with these parameters (permission table)."""
    level = job_permission(kind, params, target_ids)
    if user_can(user, level):
        return
    if needs_login(user, level):
        raise AuthenticationRequired(f"log in to queue {kind} jobs")
    raise PermissionDeniedError(f"your role may not queue {kind} jobs with these parameters (needs {level})")


def job_find_identical(*, kind: str, params: dict[str, Any], target_ids: list[int]) -> Job | None:
    """A queued or running job of the same kind, parameters and targets, if any (oldest first)."""
    wanted = sorted(set(target_ids))
    for job in Job.objects.filter(kind=kind, params=params, status__in=ACTIVE_STATUSES).order_by("pk"):
        if sorted(job.targets.values_list("pk", flat=True)) == wanted:
            return job
    return None


def job_check_quota(*, user) -> None:  # noqa: ANN001
    """Per-user limits on active jobs and on jobs queued per minute (admins are not limited).

    Called with the user's row locked, so two requests of one user cannot both slip past a limit.
    """
    if user_can(user, ADMINISTER):
        return
    mine = Job.objects.filter(requested_by=user)
    active = mine.filter(status__in=ACTIVE_STATUSES).count()
    if active >= settings.GAIA_MAX_ACTIVE_JOBS:
        raise RateLimited(
            f"you have {active} queued or running jobs (limit {settings.GAIA_MAX_ACTIVE_JOBS}); "
            "wait for some to finish or cancel them",
            retry_after=60,
        )
    since = timezone.now() - RATE_WINDOW
    recent = list(mine.filter(created_at__gte=since).order_by("created_at").values_list("created_at", flat=True))
    if len(recent) >= settings.GAIA_ENQUEUE_PER_MINUTE:
        wait = (recent[0] + RATE_WINDOW - timezone.now()).total_seconds()
        raise RateLimited(
            f"at most {settings.GAIA_ENQUEUE_PER_MINUTE} jobs a minute; try again in {max(1, int(wait) + 1)} s",
            retry_after=int(wait) + 1,
        )


def job_enqueue(
    *,
    kind: str,
    params: dict[str, Any] | None = None,
    targets: Iterable[Model] = (),
    user=None,  # noqa: ANN001 - a django user, AnonymousUser, or None for the system itself
    authorize: bool = True,
    parent: Job | None = None,
) -> Job:
    """Create a queued Job and send its message once the surrounding transaction commits.

    Every path that queues work comes here: the parameters are validated by the kind's schema, the
    user's permission for that kind and those parameters is checked, then quotas. ``user=None``
    means the system itself (management commands, a job queuing its follow-up with
    ``authorize=False``). A request identical to a queued or running job returns that job, marked
    ``job.deduplicated = True``, instead of queuing another. ``parent``: the job this one is a batch of
    (``apps.jobs.fanout``).
    """
    try:
        actor = actor_for(kind)
    except KeyError as exc:
        raise InvalidInput(str(exc.args[0])) from exc
    target_list = list(targets)
    target_ids = [t.pk for t in target_list]
    if authorize and user is not None:
        job_authorize(user=user, kind=kind, params=dict(params or {}), target_ids=target_ids)
    params = actor.validate_params(dict(params or {}))
    if authorize and user is not None:
        # The validated parameters may differ from the raw ones (defaults filled in): check again.
        job_authorize(user=user, kind=kind, params=params, target_ids=target_ids)
    with transaction.atomic():
        requester = user if getattr(user, "is_authenticated", False) else None
        if requester is not None:
            get_user_model().objects.select_for_update().filter(pk=requester.pk).first()
        existing = job_find_identical(kind=kind, params=params, target_ids=target_ids)
        if existing is not None:
            existing.deduplicated = True
            return existing
        if requester is not None and authorize:
            job_check_quota(user=requester)
        job = _job_create(actor=actor, kind=kind, params=params, targets=target_list, requester=requester,
                          parent=parent)
    job.deduplicated = False
    return job


def _job_create(*, actor, kind: str, params: dict[str, Any], targets: list[Model], requester,  # noqa: ANN001
                parent: Job | None = None) -> Job:
    job = Job.objects.create(
        kind=kind,
        params=params,
        queue_name=actor.queue_name,
        requested_by=requester,
        parent=parent,
    )
    if targets:
        job.targets.set(targets)
    if settings.GAIA_JOBS_EAGER:
        transaction.on_commit(lambda: run_job(job.pk, actor.job_body, retries_left=False))
    else:
        # The row is the outbox: the message follows the commit, and if the broker cannot take it
        # now the job stays queued with dispatch pending until the reconciler sends it.
        transaction.on_commit(lambda: job_dispatch(job))
    return job


def job_children_enqueue(*, parent: Job, kind: str, batches: Iterable[dict[str, Any]]) -> list[Job]:
    """Queue one ``kind`` job per parameter set in ``batches`` as children of ``parent`` (the system
    queues them: validated, de-duplicated, no quota), all in one transaction (``apps.jobs.fanout``).

    Idempotent: a parent that has children already (its worker died after queuing them and the job was
    claimed again) gets those back and nothing new is queued.
    """
    existing = list(parent.children.order_by("pk"))
    if existing:
        return existing
    with transaction.atomic():
        return [job_enqueue(kind=kind, params=params, user=None, authorize=False, parent=parent) for params in batches]


def job_may_manage(*, user, job: Job) -> bool:  # noqa: ANN001
    """Operators and admins manage every job; anyone else only the jobs they asked for."""
    if user_can(user, MANAGE_JOBS):
        return True
    return bool(getattr(user, "is_authenticated", False)) and job.requested_by_id == user.pk


def job_cancel(*, job: Job, user=None) -> Job:  # noqa: ANN001 - None: the system itself
    """Cancel a queued job at once; ask a running one to stop at its next checkpoint."""
    if user is not None and not job_may_manage(user=user, job=job):
        raise PermissionDeniedError("only operators, admins or the user who asked may cancel this job")
    if job.is_finished:
        raise Conflict(f"job {job.pk} already {job.status}")
    now = timezone.now()
    updated = Job.objects.filter(pk=job.pk, status=JobStatus.QUEUED).update(
        status=JobStatus.CANCELLED, cancel_requested=True, finished_at=now, stage="cancelled before start"
    )
    if not updated:
        Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(cancel_requested=True)
    # A parent's work is its children: cancel those still queued or running, then let it end.
    for child in job.children.filter(status__in=ACTIVE_STATUSES):
        with contextlib.suppress(Conflict):  # it ended meanwhile
            job_cancel(job=child)
    if job.parent_id:
        job_children_settle(job.parent_id)
    job_children_settle(job.pk)
    job.refresh_from_db()
    return job


def job_retry(*, job: Job, user=None) -> Job:  # noqa: ANN001 - None: the system itself
    """Queue a fresh copy of a failed or cancelled job (same kind, parameters and targets)."""
    if user is not None and not user_can(user, MANAGE_JOBS):
        raise PermissionDeniedError("only operators and admins may retry jobs")
    if job.status not in (JobStatus.FAILED, JobStatus.CANCELLED):
        raise Conflict(f"job {job.pk} is {job.status}; only failed or cancelled jobs are retried")
    return job_enqueue(
        kind=job.kind, params=dict(job.params), targets=list(job.targets.all()), user=user,
    )


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
    target: Model | None = None,
    meta: dict | None = None,
    provenance: dict | None = None,
    move: bool = True,
) -> Artifact:
    """Record ``source`` as the next version of ``key``; earlier versions are never touched.

    The file is first staged inside DATA_ROOT (copied, fsynced, checksummed), then published
    write-once to ``artifacts/<key>/v<N>/`` (an exclusive hard link on the disk, a conditional PUT
    on S3: ``apps.core.storage``) and its row written. Publication fails if that version's file
    exists, so two writers of one key each end with a version of their own, and a row always
    points at the bytes whose sha256 it records.

    A job run again after its worker died (services are idempotent) gets back the version it
    stored before when the bytes are the same, instead of a duplicate version.
    """
    source = Path(source)
    if not source.is_file():
        raise InvalidInput(f"artifact source {source} does not exist")
    staged, sha256, size = staging_copy(source, move=False)
    version = 0
    try:
        if job is not None:
            stored = Artifact.objects.filter(key=key, job=job, sha256=sha256).order_by("-version").first()
            if stored is not None:
                if move:
                    source.unlink(missing_ok=True)
                return stored
        for _attempt in range(20):
            # A file left by a crashed attempt burns its version number: never try one twice.
            version = max(artifact_next_version(key), version + 1)
            relative = relative_data_path(artifact_path(key=key, version=version, filename=source.name))
            # Until the row is committed, an intent names the file (apps/jobs/publication.py): a
            # writer killed in between leaves no file that no row references.
            intent = intent_path(staged)
            try:
                intent.write_text(relative)
            except BaseException:
                intent.unlink(missing_ok=True)  # e.g. no space left even for this line
                raise
            if not product_save_exclusive(staged, relative, sha256=sha256):
                intent.unlink(missing_ok=True)
                continue  # another writer (or a crashed attempt) holds this version: take the next
            try:
                with transaction.atomic():
                    artifact = Artifact.objects.create(
                        job=job, kind=kind, key=key, version=version, path=relative,
                        sha256=sha256, size_bytes=size, target=target, meta=meta or {},
                        provenance=provenance or {},
                    )
            except IntegrityError:
                product_delete(relative)  # the version was taken in the database meanwhile
                intent.unlink(missing_ok=True)
                continue
            except BaseException:
                product_delete(relative)  # no row was written (e.g. the database is down)
                intent.unlink(missing_ok=True)
                raise
            if staging_scope_name() is None:
                intent.unlink(missing_ok=True)  # no job scope to check it later (commands, shell)
            # In a job the intent stays until the job's scope ends: a caller's transaction that
            # rolls back (or a kill before it commits) leaves a row-less file the scope removes.
            if move:
                source.unlink(missing_ok=True)
            return artifact
    finally:
        staged.unlink(missing_ok=True)
    raise Conflict(f"could not allocate a version for artifact {key}")


@contextlib.contextmanager
def artifact_local_path(artifact: Artifact) -> Iterator[Path]:
    """A local path holding the artifact's bytes, for code that reads files (science code, numpy,
    pyarrow): the file itself on the disk, a cached download checked against the row's sha256 on
    S3 (``apps.core.storage.product_local_path``). FileNotFoundError when the file is missing.
    """
    with product_local_path(artifact.path, sha256=artifact.sha256) as path:
        yield path
