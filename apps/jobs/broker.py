"""Dramatiq set-up: one Redis broker for the site and its workers.

Importing this module installs the broker globally, so it must be imported before any actor is
declared (apps/jobs/runner.py does). Workers start with ``python manage.py worker``, which runs
``dramatiq gaia_web.worker``.
"""

from __future__ import annotations

import dramatiq
from django.conf import settings
from django.db import close_old_connections
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import CurrentMessage, Middleware

QUEUES = ("default", "downloads", "cpu")


class DjangoDbConnections(Middleware):
    """Close stale database connections around each message, as Django does around requests."""

    def before_process_message(self, broker, message):  # noqa: ANN001 - dramatiq's signature
        close_old_connections()

    def after_process_message(self, broker, message, *, result=None, exception=None):  # noqa: ANN001
        close_old_connections()

    after_skip_message = after_process_message


class Reconciler(Middleware):
    """Every worker process runs the job reconciler in a thread (apps/jobs/reconcile.py)."""

    def __init__(self) -> None:
        self.thread = None

    def after_worker_boot(self, broker, worker):  # noqa: ANN001 - dramatiq's signature
        interval = settings.GAIA_RECONCILE_SECONDS
        if interval <= 0:
            return
        from apps.jobs.reconcile import ReconcilerThread

        self.thread = ReconcilerThread(interval)
        self.thread.start()

    def before_worker_shutdown(self, broker, worker):  # noqa: ANN001
        if self.thread is not None:
            self.thread.stop()
            self.thread.join(timeout=5)
            self.thread = None


def build_broker(url: str | None = None) -> RedisBroker:
    broker = RedisBroker(url=url or settings.REDIS_URL, namespace="gaia")
    broker.add_middleware(CurrentMessage())
    broker.add_middleware(DjangoDbConnections())
    broker.add_middleware(Reconciler())
    for queue in QUEUES:
        broker.declare_queue(queue)
    return broker


broker = build_broker()
dramatiq.set_broker(broker)
