"""scripts/services refuses a port someone else holds and names the holder (issue: a Redis left
running after var/ was deleted made the next start fail with only "Redis did not start")."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_it_names_the_process_that_holds_a_port_it_needs(tmp_path):
    (tmp_path / "scripts").mkdir()
    shutil.copy(REPO / "scripts" / "services", tmp_path / "scripts" / "services")  # its own var/ here
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        env = {**os.environ, "DATABASE_URL": "postgres://unused", "GAIA_REDIS_PORT": str(port), "GAIA_PYTHON": sys.executable}
        env.pop("REDIS_URL", None)
        done = subprocess.run([str(tmp_path / "scripts" / "services"), "start", "test"], capture_output=True,
                              text=True, env=env, timeout=60)
    assert done.returncode == 1
    assert f"127.0.0.1:{port}, needed for Redis, is taken by" in done.stderr
    assert f"pid {os.getpid()}" in done.stderr, done.stderr
    assert not (tmp_path / "var" / "services" / "test" / "redis" / "redis.pid").exists()
