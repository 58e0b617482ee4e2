"""Fixtures: a real Dramatiq worker on the real Redis, processing jobs against the real PostgreSQL."""

from __future__ import annotations

import time

import dramatiq
import pytest

from apps.jobs.models import Job


@pytest.fixture
def broker():
    from apps.jobs.broker import broker as site_broker

    site_broker.flush_all()
    yield site_broker
    site_broker.flush_all()


@pytest.fixture
def worker(transactional_db, broker):
    running = dramatiq.Worker(broker, worker_threads=2, worker_timeout=50)
    running.start()
    yield running
    running.stop(timeout=10_000)


def wait_for(job_id: int, statuses: set[str], timeout: float = 30.0) -> Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = Job.objects.get(pk=job_id)
        if job.status in statuses:
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} still {Job.objects.get(pk=job_id).status}, wanted {statuses}")
