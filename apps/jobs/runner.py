"""The wrapper every actor uses: claim the Job atomically, report progress, honour cancellation.

An actor is declared with :func:`job_actor`; its body receives the claimed :class:`Job` and a
:class:`JobContext` and calls one service. The wrapper

* claims the row with a conditional UPDATE, so a redelivered message for a job that is already
  running elsewhere or finished does nothing (a job whose worker died - its heartbeat is stale -
  may be claimed again, and services are idempotent so the rerun finishes the remaining work);
* writes progress at most ``GAIA_PROGRESS_MAX_PER_SECOND`` times a second, with an ETA;
* checks for cancellation whenever the body asks (between chunks, files or TCEs);
* records per-stage timings, the error and the provenance (code version, parameters, inputs).
"""

from __future__ import annotations

import functools
import logging
import subprocess
import threading
import time
import traceback
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import dramatiq
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.db.models import F, Q
from django.utils import timezone

from apps.core.files import staging_scope
from apps.jobs.broker import broker  # noqa: F401 - the broker must exist before actors are declared
from apps.jobs.fanout import AwaitChildren, job_children_settle
from apps.jobs.models import Job, JobStatus
from apps.jobs.publication import artifact_publications_recover
from apps.jobs.registry import register

logger = logging.getLogger(__name__)

#: How often the wrapper touches the heartbeat even when the body reports no progress (a thread
#: does it while the body runs); the lease (GAIA_JOB_LEASE_SECONDS) must be several times this.
HEARTBEAT_EVERY_S = 15.0
#: How long the final write of a job's state keeps trying through a database restart.
FINISH_RETRY_S = 120.0


def lease() -> timedelta:
    """A running job whose heartbeat is older than this lost its worker."""
    return timedelta(seconds=settings.GAIA_JOB_LEASE_SECONDS)


class JobCancelled(Exception):
    """Raised inside a job body when a user asked to cancel it."""


class TransientJobError(Exception):
    """A failure worth retrying (network hiccup, busy resource); other errors fail the job at once."""


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """The package version plus the git commit when the code runs from a checkout."""
    root = Path(__file__).resolve().parents[2]
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        sha = ""
    return f"{settings.GAIA_VERSION}+{sha}" if sha else settings.GAIA_VERSION


_LISTENERS: list[Callable[[str, int, int | None], None]] = []


class progress_listener:  # noqa: N801 - used as a context manager like a function
    """Attach ``listener(stage, done, total)`` to every job run in this process meanwhile."""

    def __init__(self, listener: Callable[[str, int, int | None], None]) -> None:
        self.listener = listener

    def __enter__(self) -> Callable:
        _LISTENERS.append(self.listener)
        return self.listener

    def __exit__(self, *exc_info: object) -> None:
        _LISTENERS.remove(self.listener)


class JobContext:
    """What a job body uses to talk back: progress, stage, cancellation, inputs and its report."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self._min_interval = 1.0 / max(1, settings.GAIA_PROGRESS_MAX_PER_SECOND)
        self._last_write = 0.0
        self._last_cancel_check = 0.0
        self._cancelled = False
        self._stage_started = time.monotonic()
        self._stage = job.stage
        self._timings: dict[str, float] = dict(job.timings or {})
        self._inputs: dict[str, str] = {}
        self._started = time.monotonic()
        self._done_at_start = job.progress_done
        #: Called on every stage change and progress report, unthrottled (terminal progress bars).
        self.listeners: list[Callable[[str, int, int | None], None]] = list(_LISTENERS)

    # -- progress ------------------------------------------------------------------------------
    def stage(self, text: str) -> None:
        """Enter a new named stage; time spent in the previous one is recorded."""
        self._close_stage()
        self._stage = text
        self._stage_started = time.monotonic()
        self._write({"stage": text[:200], "timings": self._timings}, force=True)
        for listener in self.listeners:
            listener(text, 0, None)  # a new stage starts its own count

    def progress(
        self, done: int, total: int | None = None, *, unit: str | None = None, force: bool = False
    ) -> None:
        """Report ``done`` out of ``total``; throttled so workers do not hammer the database."""
        fields: dict[str, Any] = {"progress_done": max(0, int(done))}
        if total is not None:
            fields["progress_total"] = int(total)
        if unit:
            fields["progress_unit"] = unit
        eta = self._eta(done, total if total is not None else self.job.progress_total)
        fields["eta_seconds"] = eta
        self._write(fields, force=force)
        for listener in self.listeners:
            listener(self._stage, int(done), total if total is not None else self.job.progress_total)
        self.check_cancelled()

    def add_input(self, name: str, sha256: str) -> None:
        """Record a checksum of an input file for provenance."""
        self._inputs[name] = sha256

    def check_cancelled(self) -> None:
        """Raise :class:`JobCancelled` if someone asked to cancel (read at most twice a second)."""
        if self.cancel_requested():
            raise JobCancelled(f"job {self.job.pk} was cancelled")

    def cancel_requested(self) -> bool:
        """Whether someone asked to cancel; for science code that takes a ``should_cancel()`` callable."""
        now = time.monotonic()
        if now - self._last_cancel_check < 0.5:
            return self._cancelled
        self._last_cancel_check = now
        try:
            self._cancelled = Job.objects.filter(pk=self.job.pk, cancel_requested=True).exists()
        except (OperationalError, InterfaceError) as exc:
            _lost_database(self.job.pk, "cancel check", exc)  # keep the last answer meanwhile
        return self._cancelled

    # -- internals -----------------------------------------------------------------------------
    def _eta(self, done: int, total: int | None) -> float | None:
        advanced = done - self._done_at_start
        if not total or advanced <= 0:
            return None
        elapsed = time.monotonic() - self._started
        return max(0.0, (total - done) * elapsed / advanced)

    def _close_stage(self) -> None:
        if self._stage:
            spent = time.monotonic() - self._stage_started
            self._timings[self._stage] = round(self._timings.get(self._stage, 0.0) + spent, 4)

    def _write(self, fields: dict[str, Any], *, force: bool) -> None:
        # The in-memory row always holds the newest values, so the final write has them even
        # when a throttled report never reached the database.
        for name, value in fields.items():
            setattr(self.job, name, value)
        now = time.monotonic()
        if not force and now - self._last_write < self._min_interval:
            return
        self._last_write = now
        fields["heartbeat_at"] = timezone.now()
        try:
            Job.objects.filter(pk=self.job.pk).update(**fields)
        except (OperationalError, InterfaceError) as exc:
            # Progress is best effort: through a database restart the job goes on, the next
            # report (or the final write, which insists) carries the newest values.
            _lost_database(self.job.pk, "progress write", exc)

    def heartbeat(self) -> None:
        if time.monotonic() - self._last_write >= HEARTBEAT_EVERY_S:
            self._write({}, force=True)

    def finish_fields(self) -> dict[str, Any]:
        self._close_stage()
        provenance = dict(self.job.provenance or {})
        provenance.update(
            {
                "code_version": code_version(),
                "parameters": self.job.params,
                "inputs": {**provenance.get("inputs", {}), **self._inputs},
            }
        )
        return {"timings": self._timings, "provenance": provenance}


def _lost_database(job_id: int, what: str, exc: Exception) -> None:
    logger.warning("job %s: %s failed (%s); reconnecting later", job_id, what, exc)
    connection.close()


def claim_job(job_id: int) -> Job | None:
    """Atomically move a job to RUNNING; None when it is not ours to run (finished or live elsewhere)."""
    now = timezone.now()
    claimable = Q(status=JobStatus.QUEUED) | Q(status=JobStatus.RUNNING, heartbeat_at__lt=now - lease())
    updated = (
        Job.objects.filter(claimable, pk=job_id, cancel_requested=False)
        .update(
            status=JobStatus.RUNNING,
            started_at=now,
            heartbeat_at=now,
            attempts=F("attempts") + 1,
            error_summary="",
            error_detail="",
        )
    )
    if not updated:
        # A cancelled-while-queued job is finished here, so the UI never shows it waiting forever.
        Job.objects.filter(pk=job_id, status=JobStatus.QUEUED, cancel_requested=True).update(
            status=JobStatus.CANCELLED, finished_at=now, stage="cancelled before start"
        )
        return None
    return Job.objects.get(pk=job_id)


def _finish(job: Job, ctx: JobContext, status: str, **extra: Any) -> None:
    """Write the final state; through a database restart it reconnects and tries again."""
    fields = {"status": status, "finished_at": timezone.now(), "eta_seconds": None, **extra}
    fields.update(ctx.finish_fields())
    deadline = time.monotonic() + FINISH_RETRY_S
    while True:
        try:
            Job.objects.filter(pk=job.pk).update(**fields)
            return
        except (OperationalError, InterfaceError) as exc:
            if time.monotonic() > deadline:
                raise
            logger.warning("job %s: final write failed (%s); reconnecting", job.pk, exc)
            connection.close()
            time.sleep(1.0)


class _HeartbeatThread(threading.Thread):
    """Touches the job's heartbeat while its body runs, so a long step without progress reports
    is not mistaken for a dead worker; stops when the job ends."""

    def __init__(self, job_id: int, every_s: float) -> None:
        super().__init__(name=f"heartbeat-job-{job_id}", daemon=True)
        self.job_id, self.every_s = job_id, every_s
        self._stop_event = threading.Event()

    def run(self) -> None:
        try:
            while not self._stop_event.wait(self.every_s):
                try:
                    # A job waiting for its children has no heartbeat (apps/jobs/fanout.py): leave it so.
                    Job.objects.filter(pk=self.job_id, status=JobStatus.RUNNING, heartbeat_at__isnull=False).update(
                        heartbeat_at=timezone.now())
                except (OperationalError, InterfaceError):
                    connection.close()  # the database restarts: reconnect next beat
        finally:
            connection.close()

    def stop(self) -> None:
        self._stop_event.set()


def run_job(
    job_id: int,
    body: Callable[[Job, JobContext], dict | None],
    *,
    retries_left: bool,
    validate_params: Callable[[dict], dict] | None = None,
) -> None:
    """Run ``body`` for a job; the heart of every actor (also used directly in eager mode).

    ``validate_params`` (the kind's check, given by the actor) runs again on the stored parameters:
    a redelivered or hand-crafted message whose row holds bad parameters fails with the reason
    instead of reaching the service.
    """
    job = claim_job(job_id)
    if job is None:
        logger.info("job %s not claimable (finished, running elsewhere or cancelled); skipping", job_id)
        return
    ctx = JobContext(job)
    # several beats per lease, however short the lease is set (fault drills use a few seconds)
    beat = _HeartbeatThread(job.pk, min(HEARTBEAT_EVERY_S, settings.GAIA_JOB_LEASE_SECONDS / 4))
    beat.start()
    try:
        # Temporary files of this job live in its own staging folder: what a killed attempt left
        # there is removed now, and nothing survives the run.
        with staging_scope(f"job{job.pk}", recover=artifact_publications_recover):
            _run_claimed(job, ctx, body, retries_left=retries_left, validate_params=validate_params)
    finally:
        beat.stop()
        if job.parent_id:
            _settle_parent(job.parent_id)


def _settle_parent(parent_id: int) -> None:
    """A child ended (or went back to the queue): bring its parent up to date (the reconciler retries)."""
    try:
        job_children_settle(parent_id)
    except (OperationalError, InterfaceError) as exc:
        _lost_database(parent_id, "settling the parent job", exc)


def _park(job: Job, ctx: JobContext, waiting: AwaitChildren) -> None:
    """The body queued child jobs: leave the job running with no heartbeat until they end."""
    fields = {"stage": f"waiting for {waiting.children} child jobs", "heartbeat_at": None, "eta_seconds": None}
    fields.update(ctx.finish_fields())
    Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(**fields)
    job_children_settle(job.pk)  # the children may all have ended already (eager mode)


def _run_claimed(
    job: Job,
    ctx: JobContext,
    body: Callable[[Job, JobContext], dict | None],
    *,
    retries_left: bool,
    validate_params: Callable[[dict], dict] | None,
) -> None:
    try:
        if validate_params is not None:
            job.params = validate_params(dict(job.params or {}))
        result = body(job, ctx) or {}
    except AwaitChildren as waiting:
        _park(job, ctx, waiting)
        return
    except JobCancelled:
        _finish(job, ctx, JobStatus.CANCELLED, stage="cancelled")
        return
    except TransientJobError as exc:
        if retries_left:
            # Back to the queue: the broker redelivers after a backoff and the claim succeeds again.
            Job.objects.filter(pk=job.pk).update(
                status=JobStatus.QUEUED, stage=f"retrying after: {exc}"[:200], error_summary=str(exc)
            )
            raise
        _finish(job, ctx, JobStatus.FAILED, error_summary=str(exc)[:2000], error_detail=traceback.format_exc())
        raise
    except BaseException as exc:
        _finish(
            job,
            ctx,
            JobStatus.FAILED,
            error_summary=f"{type(exc).__name__}: {exc}"[:2000],
            error_detail=traceback.format_exc(),
        )
        raise
    progress_total = job.progress_total if job.progress_total is not None else job.progress_done
    _finish(
        job,
        ctx,
        JobStatus.SUCCEEDED,
        result=result,
        progress_done=max(job.progress_done, progress_total or 0),
        progress_total=progress_total,
        progress_unit=job.progress_unit,
        stage="done",
    )


def _retries_left(max_retries: int) -> bool:
    message = dramatiq.middleware.CurrentMessage.get_current_message()
    if message is None:
        return False
    return message.options.get("retries", 0) < max_retries


def job_actor(
    *,
    kind: str,
    queue_name: str = "default",
    max_retries: int = 3,
    time_limit_s: int = 3600,
    min_backoff_ms: int = 2000,
    validate_params: Callable[[dict], dict] | None = None,
) -> Callable[[Callable[[Job, JobContext], dict | None]], dramatiq.Actor]:
    """Declare the actor for a job kind. The decorated body gets ``(job, ctx)`` and calls a service.

    Only :class:`TransientJobError` is retried (up to ``max_retries`` with exponential backoff);
    any other exception fails the job at once with its message recorded. ``validate_params``
    checks and normalises parameters (raise ``InvalidInput``): at enqueue time, so a bad request
    is refused before anything is queued, and again when a worker takes the message.
    """

    def decorator(body: Callable[[Job, JobContext], dict | None]) -> dramatiq.Actor:
        def should_retry(retries_so_far: int, exc: BaseException) -> bool:
            return isinstance(exc, TransientJobError) and retries_so_far < max_retries

        @functools.wraps(body)
        def actor_fn(job_id: int) -> None:
            run_job(
                job_id, body, retries_left=_retries_left(max_retries), validate_params=validate_params
            )

        actor = dramatiq.actor(
            actor_fn,
            actor_name=f"job_{kind}",
            queue_name=queue_name,
            max_retries=max_retries,
            retry_when=should_retry,
            time_limit=time_limit_s * 1000,
            min_backoff=min_backoff_ms,
        )
        actor.job_body = body  # eager mode runs the body without the broker
        actor.validate_params = validate_params or (lambda params: params)
        register(kind, actor)
        return actor

    return decorator
