"""The reconciler: nothing stays queued or running for ever.

Each pass (every ``GAIA_RECONCILE_SECONDS`` inside every worker process, and
``manage.py reconcile_jobs``) does two things under a PostgreSQL advisory lock, so one pass runs
at a time across all workers:

* a **queued** job with no live message in the broker (the broker was down at enqueue, or Redis
  restarted and lost its messages) gets a message again;
* a **running** job whose heartbeat is older than ``GAIA_JOB_LEASE_SECONDS`` lost its worker: it
  is queued again and re-sent while its retry budget lasts (the actor's ``max_retries``), then
  failed with the reason; a dead job someone asked to cancel ends ``cancelled``.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone

from apps.jobs.dispatch import BROKER_DOWN, job_dispatch, queued_without_message
from apps.jobs.fanout import job_children_settle, waiting_parents
from apps.jobs.models import Job, JobStatus
from apps.jobs.registry import actor_for

logger = logging.getLogger(__name__)

#: A queued job younger than this may still be waiting for its on-commit dispatch.
DISPATCH_GRACE_S = 5.0
#: Arbitrary constant naming the advisory lock of the reconciler.
ADVISORY_LOCK_KEY = 724_611_301


@dataclass
class ReconcileReport:
    resent: list[int] = field(default_factory=list)
    requeued: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)
    settled: list[int] = field(default_factory=list)  # parents ended once their children had
    skipped: str = ""

    def as_dict(self) -> dict:
        return {"resent": self.resent, "requeued": self.requeued, "failed": self.failed,
                "cancelled": self.cancelled, "settled": self.settled, "skipped": self.skipped}


def _retry_budget(kind: str) -> int:
    try:
        budget = int(actor_for(kind).options.get("max_retries", 0))
    except KeyError:
        budget = 0
    return max(budget, settings.GAIA_JOB_LOST_WORKER_RETRIES)


def _expire_leases(report: ReconcileReport) -> list[Job]:
    """Deal with running jobs whose worker died; return those to send again."""
    lease = timedelta(seconds=settings.GAIA_JOB_LEASE_SECONDS)
    now = timezone.now()
    to_send = []
    for job in Job.objects.filter(status=JobStatus.RUNNING, heartbeat_at__lt=now - lease):
        stale = Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING, heartbeat_at=job.heartbeat_at)
        silent_s = int((now - job.heartbeat_at).total_seconds())
        if job.cancel_requested:
            if stale.update(status=JobStatus.CANCELLED, finished_at=now, stage="cancelled (worker lost)"):
                report.cancelled.append(job.pk)
        elif job.attempts > _retry_budget(job.kind):
            reason = (f"worker lost: no heartbeat for {silent_s} s, after {job.attempts} attempt(s) "
                      f"(lease {settings.GAIA_JOB_LEASE_SECONDS} s); retry budget spent")
            if stale.update(status=JobStatus.FAILED, finished_at=now, error_summary=reason, eta_seconds=None):
                report.failed.append(job.pk)
        elif stale.update(status=JobStatus.QUEUED, stage=f"re-queued: worker lost (no heartbeat for {silent_s} s)"):
            report.requeued.append(job.pk)
            to_send.append(job)
    return to_send


def reconcile_once() -> ReconcileReport:
    """One pass; safe to run from many processes at once (only one does the work)."""
    report = ReconcileReport()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_LOCK_KEY])
        if not cursor.fetchone()[0]:
            report.skipped = "another reconciler is running"
            return report
    try:
        for job in _expire_leases(report):
            if job_dispatch(job):
                report.resent.append(job.pk)
        try:
            orphans = [j for j in queued_without_message(older_than_s=DISPATCH_GRACE_S) if j.pk not in report.resent]
        except BROKER_DOWN as exc:
            report.skipped = f"broker unreachable: {exc}"
            return report
        for job in orphans:
            if job_dispatch(job):
                report.resent.append(job.pk)
        for parent_id in waiting_parents():  # a child's own settle call may have been lost with its worker
            if job_children_settle(parent_id):
                report.settled.append(parent_id)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_LOCK_KEY])
    if report.resent or report.requeued or report.failed or report.cancelled or report.settled:
        logger.info("reconciler: %s", report.as_dict())
    return report


class ReconcilerThread(threading.Thread):
    """Runs :func:`reconcile_once` every ``interval_s`` until stopped (one per worker process)."""

    def __init__(self, interval_s: float) -> None:
        super().__init__(name="gaia-reconciler", daemon=True)
        self.interval_s = interval_s
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.interval_s):
            try:
                close_old_connections()
                reconcile_once()
            except DatabaseError as exc:  # the database is restarting: try again next time
                logger.warning("reconciler pass failed: %s", exc)
                connection.close()
            except Exception:  # noqa: BLE001 - a reconciler must outlive any one bad pass
                logger.exception("reconciler pass failed")
        connection.close()

    def stop(self) -> None:
        self._stop_event.set()
