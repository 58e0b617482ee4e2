"""The machine line the load and vetting benchmarks write at the top of their section."""

from __future__ import annotations

import os
import platform
import subprocess


def machine() -> str:
    """Kernel, CPU model, core count and the load average at the start: figures name their machine."""
    model = "unknown CPU"
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        model = next(line.split(":", 1)[1].strip() for line in lscpu.splitlines() if line.startswith("Model name"))
    except (OSError, StopIteration):
        pass
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"`{' '.join(platform.uname())}`; {model}, {os.cpu_count()} cores (shared; load average at start {load})"
