"""First call on a fresh worker: numba compilation with an empty cache vs after ``manage.py warm_kernels``.

Run: python bench/bench_warm.py [--data DIR] [--out PATH]

Each measurement is a new Python process with its own empty ``NUMBA_CACHE_DIR`` (a temporary folder),
as a new worker host or container would start:
- cold: the first call of tce_views + BLS + biweight on two quarters of KIC 2306740 (the issue's case)
  and a transit search, with nothing cached: it compiles every kernel it meets;
- warm: ``manage.py warm_kernels`` (what ``make install`` and the Docker build run) fills the folder,
  then a new process makes the same first call; the kernels it had to compile anyway are counted;
- the same calls made a second time in that process: the speed of every later job.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

FIRST_CALL = """
import gc, glob, json, sys, time
t0 = time.perf_counter()
sys.path.insert(0, {root!r})
import numpy as np
from apps.lightcurves.science import bls, io, pipeline
from apps.lightcurves.science.search_run import SearchOptions
t1 = time.perf_counter()
lcs = [io.read_fits(f) for f in sorted(glob.glob({glob!r}))[:2]]
def job():
    pipeline.tce_views(lcs, 10.3071, 138.731, 4.5, preset="gaia")
    t = np.linspace(0, 30, 2000); bls.bls(t, 1 + 0 * t, np.array([2.0, 3.0]), np.array([0.1]))
    pipeline.flatten_lightcurves(lcs, preset="gaia", detrender="biweight")
    pipeline.search_transits(lcs, SearchOptions(n_periods=2000, max_signals=1))
a = time.perf_counter(); job(); first = time.perf_counter() - a
a = time.perf_counter(); job(); second = time.perf_counter() - a
from numba.core.registry import CPUDispatcher
ours = [d for d in gc.get_objects() if isinstance(d, CPUDispatcher) and d.py_func.__module__.startswith("apps.")]
compiled = sorted(d.py_func.__qualname__ for d in ours if d.stats.cache_misses)
print(json.dumps({{"import": t1 - t0, "first": first, "second": second, "compiled": compiled}}))
"""


def machine() -> dict[str, str]:
    cpu = next(
        (ln.split(":", 1)[1].strip() for ln in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines()
         if ln.startswith("Model name")),
        "?",
    )
    return {
        "uname": " ".join(platform.uname()),
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "python": platform.python_version(),
        "numba": importlib.metadata.version("numba"),
    }


def run(args: list[str], cache: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "NUMBA_CACHE_DIR": cache}
    done = subprocess.run(args, capture_output=True, text=True, env=env, check=False, cwd=ROOT)
    if done.returncode:
        raise SystemExit(f"{' '.join(args[:3])} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done


def first_call(data: Path, cache: str) -> dict:
    code = FIRST_CALL.format(root=str(ROOT), glob=str(data / "kepler/kplr002306740-*_llc.fits"))
    return json.loads(run([sys.executable, "-c", code], cache).stdout.strip().splitlines()[-1])


def measure(data: Path) -> dict:
    out = {}
    with tempfile.TemporaryDirectory() as cache:
        out["cold"] = first_call(data, cache)
    with tempfile.TemporaryDirectory() as cache:
        start = time.perf_counter()
        run([sys.executable, "manage.py", "warm_kernels"], cache)
        out["warm_command"] = time.perf_counter() - start
        out["cache_bytes"] = sum(p.stat().st_size for p in Path(cache).rglob("*") if p.is_file())
        out["warm"] = first_call(data, cache)
    return out


def render(m: dict, r: dict) -> str:
    cold, warm = r["cold"], r["warm"]
    compiled = ", ".join(warm["compiled"]) or "none"
    return "\n".join([
        "## First job on a fresh worker: numba cache (`bench/bench_warm.py`)",
        "",
        f"Machine: `{m['uname']}`; CPU {m['cpu']}, {m['cores']} cores (shared; load average at start {m['load']}); "
        f"{m['date']}; Python {m['python']}, numba {m['numba']}. Each row is a new process with its own empty "
        "`NUMBA_CACHE_DIR`, as a new worker would start; wall-clock seconds, one run.",
        "",
        "The call: `tce_views` (gaia) + `bls` + biweight flattening + a 2,000-period transit search on two "
        "quarters of KIC 2306740.",
        "",
        "| process | import | first call | same call again | kernels compiled in the call |",
        "|---|---|---|---|---|",
        f"| empty cache (a fresh worker before this change) | {cold['import']:.2f} s | **{cold['first']:.1f} s** | "
        f"{cold['second']:.2f} s | {len(cold['compiled'])} |",
        f"| after `manage.py warm_kernels` ({r['warm_command']:.0f} s, {r['cache_bytes'] / 2**20:.1f} MiB of cache) | "
        f"{warm['import']:.2f} s | **{warm['first']:.2f} s** | {warm['second']:.2f} s | {len(warm['compiled'])} ({compiled}) |",
        "",
        f"Goal: a fresh worker compiles nothing on its first job: {'met' if not warm['compiled'] else 'not met'} "
        f"({len(warm['compiled'])} kernels compiled; first call {warm['first']:.2f} s after warming against "
        f"{cold['first']:.1f} s cold, {cold['first'] / warm['first']:.0f}x). Later calls take {warm['second']:.2f} s: "
        "the rest of the first call is loading the cached machine code, once per process.",
        "",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("GAIA_DEMO_DATA", ROOT.parent / "shared" / "data")))
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "bench" / "warm.md")
    args = parser.parse_args()
    m = machine()
    result = measure(args.data)
    text = render(m, result)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
