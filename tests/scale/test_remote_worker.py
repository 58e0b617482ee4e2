"""A worker on another host processes jobs: the other host is a network namespace joined to this one by a
veth pair, with addresses this test assigns itself (a free /30 in 10.213.0.0/16).

PostgreSQL and Redis of the test's own listen on the host end of the pair only; the worker runs inside the
namespace (``ip netns exec NS python -m dramatiq gaia_web.worker``), where the host's loopback services are
out of reach, with DATABASE_URL and REDIS_URL naming the host end. Jobs queued on the host end, as any web
process would queue them, must finish there, and PostgreSQL must see the worker's connections come from the
namespace's address. Everything made here (namespace, veth pair, servers, folders) is removed at the end;
nothing else on any network is touched. Needs root (skipped otherwise, with the reason).
"""

from __future__ import annotations

import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _why_not() -> str | None:
    if os.geteuid() != 0:
        return "needs root: it creates a network namespace and a veth pair"
    if not shutil.which("ip"):
        return "needs iproute2's ip"
    if not shutil.which("redis-server"):
        return "needs redis-server on PATH"
    if _pg_bin() is None:
        return "needs PostgreSQL server binaries (/usr/lib/postgresql/NN/bin)"
    probe = f"gaia-probe-{os.getpid()}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode != 0:
        return f"cannot create network namespaces here: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "delete", probe], check=False)
    return None


def _pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parent.parent.name))
    return found[-1].parent if found else None


def _sh(*cmd: str, **kwargs) -> subprocess.CompletedProcess:  # noqa: ANN003
    return subprocess.run(list(cmd), check=True, capture_output=True, text=True, **kwargs)


def _free_subnet() -> str:
    """A 10.213.x.y/30 no interface here uses: returns its first three octets and the base, e.g. 10.213.7.4."""
    used = _sh("ip", "-o", "-4", "addr", "show").stdout + _sh("ip", "-4", "route", "show").stdout
    rng = random.Random(os.getpid())
    for _ in range(200):
        third, base = rng.randrange(256), rng.randrange(0, 256, 4)
        if f"10.213.{third}." not in used:
            return f"10.213.{third}.{base}"
    raise RuntimeError("no free 10.213.x.x/30 subnet")


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _wait_port(host: str, port: int, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{host}:{port} did not open within {timeout} s")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


ENQUEUE = """
from django.core.management import call_command
call_command("migrate", verbosity=0)
from apps.jobs.services import job_enqueue
print("JOBS", *[job_enqueue(kind="worker_check", params={"steps": steps, "pause_s": 0.05}).pk for steps in (3, 4, 5)])
"""


def test_a_worker_in_another_network_namespace_processes_jobs():
    why = _why_not()
    if why:
        pytest.skip(why)
    import psycopg

    tag = f"{os.getpid() % 100000}"
    namespace, host_if, peer_if = f"gaia-h10-{tag}", f"gh{tag}h", f"gh{tag}n"
    subnet = _free_subnet()
    prefix, base = subnet.rsplit(".", 1)
    host_ip, worker_ip = f"{prefix}.{int(base) + 1}", f"{prefix}.{int(base) + 2}"
    with ExitStack() as cleanup:
        # The second host: a namespace, and a veth pair whose one end is inside it.
        _sh("ip", "netns", "add", namespace)
        cleanup.callback(subprocess.run, ["ip", "netns", "delete", namespace], check=False)
        _sh("ip", "link", "add", host_if, "type", "veth", "peer", "name", peer_if)
        cleanup.callback(subprocess.run, ["ip", "link", "delete", host_if], check=False, capture_output=True)
        _sh("ip", "link", "set", peer_if, "netns", namespace)
        _sh("ip", "addr", "add", f"{host_ip}/30", "dev", host_if)
        _sh("ip", "link", "set", host_if, "up")
        inside = ["ip", "netns", "exec", namespace]
        _sh(*inside, "ip", "addr", "add", f"{worker_ip}/30", "dev", peer_if)
        _sh(*inside, "ip", "link", "set", peer_if, "up")
        _sh(*inside, "ip", "link", "set", "lo", "up")
        # The host's loopback services are not reachable from there: only the veth's host end is.
        assert subprocess.run([*inside, sys.executable, "-c", "import socket; socket.create_connection(('127.0.0.1', 55433), 1)"],
                              capture_output=True).returncode != 0

        # Our own PostgreSQL and Redis, listening on the host end only.
        pg_port, redis_port = _free_port(host_ip), _free_port(host_ip)
        state = Path(tempfile.mkdtemp(prefix="gaia-remote-worker-", dir="/tmp"))
        cleanup.callback(shutil.rmtree, state, ignore_errors=True)
        shutil.chown(state, "postgres")
        pg_bin, data = _pg_bin(), state / "pgdata"
        as_postgres = ["runuser", "-u", "postgres", "--"]
        _sh(*as_postgres, str(pg_bin / "initdb"), "-D", str(data), "-U", "gaia", "--auth=trust", "-E", "UTF8")
        with (data / "pg_hba.conf").open("a") as hba:
            hba.write(f"host all all {subnet}/30 trust\n")  # both ends of the pair, ours only
        postgres = subprocess.Popen(
            [*as_postgres, str(pg_bin / "postgres"), "-D", str(data), "-c", f"listen_addresses={host_ip}",
             "-p", str(pg_port), "-c", f"unix_socket_directories={state}", "-c", "fsync=off", "-c", "log_connections=on"],
            stdout=subprocess.DEVNULL, stderr=open(state / "postgres.log", "w"), start_new_session=True,  # noqa: SIM115
        )
        cleanup.callback(_stop, postgres)
        # Redis refuses other hosts without a password (protected mode): give it one, as production must.
        redis_password = secrets.token_hex(16)
        redis = subprocess.Popen(
            ["redis-server", "--bind", host_ip, "--port", str(redis_port), "--requirepass", redis_password,
             "--save", "", "--appendonly", "no", "--dir", str(state)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        cleanup.callback(_stop, redis)
        _wait_port(host_ip, pg_port)
        _wait_port(host_ip, redis_port)
        _sh(*as_postgres, str(pg_bin / "createdb"), "-h", host_ip, "-p", str(pg_port), "-U", "gaia", "gaia_remote")
        database_url = f"postgres://gaia@{host_ip}:{pg_port}/gaia_remote"
        env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": f"redis://:{redis_password}@{host_ip}:{redis_port}/0",
               "DJANGO_SETTINGS_MODULE": "gaia_web.settings_test", "DATA_ROOT": str(state / "data"),
               "GAIA_RECONCILE_SECONDS": "0"}

        # The worker, on the other host.
        worker = subprocess.Popen(
            [*inside, sys.executable, "-m", "dramatiq", "gaia_web.worker", "--processes", "1", "--threads", "2",
             "--queues", "default"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(state / "worker.log", "w"),  # noqa: SIM115
            start_new_session=True,
        )
        cleanup.callback(_stop, worker)

        # Jobs queued on this host, as a web process queues them (migrate first: a fresh database).
        queued = _sh(sys.executable, "-c", "import django; django.setup()\n" + ENQUEUE, cwd=ROOT, env=env, timeout=300)
        job_ids = [int(x) for x in next(line for line in queued.stdout.splitlines() if line.startswith("JOBS")).split()[1:]]
        assert len(job_ids) == 3

        deadline = time.time() + 180
        with psycopg.connect(database_url, autocommit=True) as db:
            while time.time() < deadline:
                rows = db.execute("SELECT id, status, progress_done, result FROM jobs_job WHERE id = ANY(%s) ORDER BY id",
                                  [job_ids]).fetchall()
                if all(status in ("succeeded", "failed", "cancelled") for _id, status, _done, _result in rows):
                    break
                assert worker.poll() is None, (state / "worker.log").read_text()[-3000:]
                time.sleep(0.5)
        assert [(status, done, result) for _id, status, done, result in rows] == [
            ("succeeded", 3, {"steps": 3}), ("succeeded", 4, {"steps": 4}), ("succeeded", 5, {"steps": 5})
        ], (state / "worker.log").read_text()[-3000:]
        # The worker's connections came from the other host (log_connections: "connection received: host=...").
        assert f"host={worker_ip}" in (state / "postgres.log").read_text()
    # Nothing of ours is left.
    assert namespace not in _sh("ip", "netns", "list").stdout
    assert host_if not in _sh("ip", "-o", "link", "show").stdout
