"""``warm``: after it, a reduction as a job runs it compiles no GALEX kernel signature it had not."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from apps.galex.science.warm import warm

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = """
import importlib, json, pkgutil, sys, tempfile
from pathlib import Path
from numba.core.dispatcher import Dispatcher
import apps.galex.science as science
from apps.galex.science.pipeline import reduce_eclipse
from apps.galex.science.simulate import simulate_eclipse
from apps.galex.science.warm import warm

modules = [importlib.import_module(m.name) for m in pkgutil.walk_packages(science.__path__, "apps.galex.science.")]

def signatures():
    return {f"{m.__name__}.{name}": sorted(map(str, obj.signatures)) for m in modules
            for name, obj in vars(m).items() if isinstance(obj, Dispatcher) and obj.__module__ == m.__name__}

cal = sys.argv[1]
warm(cal)
before = signatures()
with tempfile.TemporaryDirectory() as tmp:  # a job's reduction, other options than warm's
    sim = simulate_eclipse(Path(tmp) / "sim", cal, n_events=60_000, seed=9, field_radius_deg=0.1)
    for threads in (2, 1):
        reduce_eclipse(sim.raw6_path, sim.aspect_dir, Path(tmp) / f"p{threads}", band="NUV", depth=30,
                       compression="rice", cal_dir=cal, aperture_sizes=(6, 12.8), threads=threads)
print(json.dumps({"before": before, "after": signatures()}))
"""


def test_a_reduction_after_warm_meets_only_warmed_signatures(cal_dir):
    run = subprocess.run([sys.executable, "-c", SCRIPT, str(cal_dir)], capture_output=True, text=True, cwd=ROOT,
                         timeout=600)  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    warmed = {name for name, sigs in seen["before"].items() if sigs}
    assert len(warmed) >= 15, sorted(warmed)  # 19 when written: reader, calibration, aspect, imaging, photometry
    new = {name: sorted(set(sigs) - set(seen["before"].get(name, []))) for name, sigs in seen["after"].items()}
    assert not {name: sigs for name, sigs in new.items() if sigs}


def test_without_calibration_files_it_does_nothing(tmp_path):
    assert warm(None) == {} and warm(tmp_path / "missing") == {}
