"""The outbox's sending half: hand a queued job's message to the broker, and see which jobs
still have a message in it. A job row is written first; its message follows after commit, and
whatever did not reach the broker is sent again by the reconciler (apps/jobs/reconcile.py)."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from django.utils import timezone
from redis.exceptions import RedisError

from apps.jobs.broker import QUEUES, broker
from apps.jobs.models import Job, JobStatus
from apps.jobs.registry import actor_for

logger = logging.getLogger(__name__)

#: What a broker that cannot be reached raises (redis-py wraps most, sockets may leak OSError).
BROKER_DOWN = (RedisError, OSError)


def job_dispatch(job: Job) -> bool:
    """Send a message for ``job`` if it is still queued; False (logged) when the broker is down.

    Sending twice is harmless: the worker's atomic claim lets only one message run the job.
    """
    try:
        actor = actor_for(job.kind)
    except KeyError:
        logger.error("job %s has unknown kind %r; not dispatched", job.pk, job.kind)
        return False
    message = actor.message(job.pk)
    try:
        actor.broker.enqueue(message)
    except BROKER_DOWN as exc:
        logger.warning("job %s stays queued, dispatch pending: broker unreachable (%s)", job.pk, exc)
        return False
    now = timezone.now()
    Job.objects.filter(pk=job.pk).update(message_id=message.message_id, dispatched_at=now)
    job.message_id, job.dispatched_at = message.message_id, now
    return True


def live_job_ids() -> set[int]:
    """Ids of jobs that have a message waiting, delayed or being processed in the broker.

    Dramatiq's Redis broker keeps every message in ``<ns>:<queue>.msgs`` (and ``.DQ.msgs`` for
    delayed retries) until a worker acknowledges it, so these hashes are the live messages.
    """
    client = broker.client
    found: set[int] = set()
    for queue in QUEUES:
        for name in (queue, f"{queue}.DQ"):
            for raw in client.hvals(f"{broker.namespace}:{name}.msgs"):
                try:
                    args = json.loads(raw).get("args") or []
                    found.add(int(args[0]))
                except (ValueError, TypeError, IndexError, AttributeError):
                    continue
    return found


def queued_without_message(*, older_than_s: float) -> list[Job]:
    """Queued jobs created more than ``older_than_s`` ago whose message is not in the broker."""
    cutoff = timezone.now() - timedelta(seconds=older_than_s)
    candidates = list(Job.objects.filter(status=JobStatus.QUEUED, created_at__lt=cutoff, cancel_requested=False))
    if not candidates:
        return []
    live = live_job_ids()
    return [job for job in candidates if job.pk not in live]
