"""Benchmark the GALEX photon pipeline on a synthetic eclipse; write docs/bench/galex.md.

    python bench/bench_galex.py [--events 20000000] [--depth 30] [--out DIR] [--md docs/bench/galex.md]

Measures, in one run: (1) photon-pipeline throughput (decode + calibrate + aspect -> photon
list) end to end from the gzip raw6 file, and of the numba kernels alone on in-memory chunks;
(2) the same kernels' slow numpy references on a sample, for the speed-up; (3) the whole
reduction (photon list, image, 30-s movie, photometry) in a child process with its peak RSS.
gPhoton 2 itself cannot run here (it needs its quickbin C extension, the walk/distortion
calibration files and the aspect tables, none available offline), so its published figures
are quoted instead.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from apps.galex.science import calibration as calib  # noqa: E402
from apps.galex.science.aspect import apply_aspect, apply_aspect_reference, read_aspect  # noqa: E402
from apps.galex.science.constants import band_constants  # noqa: E402
from apps.galex.science.raw6 import (  # noqa: E402
    Raw6Reader,
    center_and_scale,
    center_scale_reference,
    decode_photonbytes,
    decode_reference,
)
from apps.galex.science.simulate import simulate_eclipse  # noqa: E402

CAL_DIR = Path(
    os.environ.get("GAIA_GALEX_CAL_DIR", ROOT.parent / "shared" / "data" / "galex" / "cal_data")
)
GPHOTON_RATE = 29_331_587 / 11.34  # e09900 NUV photonpipe, 3 threads (JOSS tutorial log)


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def child_reduce(args) -> None:
    """Run in a fresh process so its peak RSS is the reduction's alone."""
    from apps.galex.science.pipeline import reduce_eclipse

    t0 = time.perf_counter()
    result = reduce_eclipse(args.raw6, args.aspect, args.products, band="NUV", depth=args.depth,
                            compression=args.compression, burst=args.burst, cal_dir=CAL_DIR)  # fmt: skip
    total = time.perf_counter() - t0
    leg = result.legs[0]
    print(json.dumps({"timings": result.timings, "total": total, "peak_rss_mib": peak_rss_mib(),
                      "n_events": result.n_events, "n_kept": result.n_kept, "n_sources": leg.n_sources,
                      "n_frames": leg.n_frames, "image": str(leg.image), "warnings": result.warnings}))  # fmt: skip


def kernel_chain(t, phb, cal, bc, asp, reference=False):
    if reference:
        fields = decode_reference(phb)
        x, y, ya = center_scale_reference(fields, bc)
        xdig, ydig, flags = calib.wiggle_reference(
            x, y, fields["xa"], ya, cal.wiggle_x, cal.wiggle_y
        )
        xp, yp, flags = calib.walk_reference(xdig, ydig, fields["q"], flags, cal.walk_x, cal.walk_y)
        dx, dy, flags = calib.linearity_reference(xp, yp, flags, cal.linearity_x, cal.linearity_y)
        xs, ys, flags = calib.distortion_reference(xp, yp, t, flags, 5190.0, 0.0, cal.distortion_x,
                                                   cal.distortion_y, cal.distortion_header, 0.0, 0.0)  # fmt: skip
        xi, eta, col, row, flags = calib.detector_reference(xp, yp, dx, dy, xs, ys, flags, bc.flip)
        apply_aspect_reference(t, xi, eta, flags, asp)
        calib.response_reference(col, row, t, cal.flat, cal.mask, bc.flat_scale)
        return
    fields = decode_photonbytes(phb)
    x, y, ya = center_and_scale(fields, bc)
    det = calib.apply_on_detector_corrections(
        x, y, fields["xa"], ya, fields["q"], t, cal, bc, (5190.0, 0.0)
    )
    apply_aspect(t, det.xi, det.eta, det.flags, asp)
    calib.calibrate_response(det.col, det.row, t, cal, bc)


def measure_kernels(raw6: Path, aspect: Path, n_sample: int) -> dict:
    bc = band_constants("NUV", 23456)
    cal = calib.load_calibration(CAL_DIR, "NUV", 23456)
    asp = read_aspect(aspect, 23456)
    with Raw6Reader(raw6) as reader:
        chunks = []
        for t, phb in reader.chunks(1_000_000):
            chunks.append((t, phb))
            if sum(len(c[0]) for c in chunks) >= n_sample:
                break
    kernel_chain(*chunks[0], cal, bc, asp)  # JIT warm-up (cache load)
    n = sum(len(c[0]) for c in chunks)
    # CPU time of this (single-threaded) process: per-core throughput even on a shared machine.
    t0, c0 = time.perf_counter(), time.process_time()
    for t, phb in chunks:
        kernel_chain(t, phb, cal, bc, asp)
    fast_wall, fast_cpu = time.perf_counter() - t0, time.process_time() - c0
    t, phb = chunks[0]
    c0 = time.process_time()
    kernel_chain(t, phb, cal, bc, asp, reference=True)
    slow = time.process_time() - c0
    c0 = time.process_time()
    kernel_chain(t, phb, cal, bc, asp)
    fast_one = time.process_time() - c0
    return {
        "kernel_rate": n / fast_cpu,
        "kernel_rate_wall": n / fast_wall,
        "kernel_events": n,
        "reference_rate": len(t) / slow,
        "speedup": slow / fast_one,
    }


def lib_versions() -> str:
    import importlib.metadata as md

    names = ("numpy", "numba", "astropy", "photutils", "pyarrow", "scipy", "pandas")
    return ", ".join(f"{n} {md.version(n)}" for n in names)


def machine() -> dict:
    model = "unknown"
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    return {"uname": " ".join(platform.uname()), "cpu": model, "cores": os.cpu_count()}


def write_markdown(md_path: Path, info: dict) -> str:
    m = info["machine"]
    red = info["reduce"]
    t = red["timings"]
    photon_s = t["photon list"]
    e2e_rate = red["n_events"] / photon_s
    e2e_cpu_rate = red["n_events"] / t["photon list cpu"]
    rest = red["total"] - photon_s
    load = os.getloadavg()
    kern = info["kernels"]
    goal_rate = kern["kernel_rate"] >= 5e6
    goal_mem = red["peak_rss_mib"] <= 1536
    lines = [
        "## GALEX photon pipeline (`bench/bench_galex.py`)",
        "",
        f"Run {info['date']} on `{m['uname']}`; CPU {m['cpu']}, {m['cores']} cores (all our kernels run on one).",
        f"Libraries: {info['versions']}.",
        f"Synthetic NUV eclipse: {red['n_events']:,} events over {info['duration']:.0f} s (MIS-like field of "
        f"{info['field_deg']}°, {info['n_sources_planted']} planted sources), raw6 {info['raw6_mib']:.0f} MiB gzip; "
        f"simulated in {info['simulate_s']:.0f} s. Walk/distortion calibration absent here, so those two steps are the "
        "identity (they are lookups of the same cost as linearity when present).",
        "",
        "| measure | ours | gPhoton 2 (published, not runnable here) | goal | met |",
        "|---|---|---|---|---|",
        f"| photon pipeline kernels (decode + calibrate + aspect), events per CPU-second | {kern['kernel_rate'] / 1e6:.2f} M "
        f"(wall {kern['kernel_rate_wall'] / 1e6:.2f} M/s) | {GPHOTON_RATE / 1e6:.2f} M with 3 threads (29.3 M events in 11.3 s) ≈ {GPHOTON_RATE / 3e6:.2f} M per core "
        f"| ≥ 5 M | {'yes' if goal_rate else 'no'} |",
        f"| photon list end to end (2 gzip passes + Parquet write), events per CPU-second | {e2e_cpu_rate / 1e6:.2f} M "
        f"(wall {e2e_rate / 1e6:.2f} M/s) | as above | — | — |",
        f"| same kernels as slow numpy references (1 M events), events/s | {kern['reference_rate'] / 1e6:.2f} M "
        f"(numba {kern['speedup']:.1f}x faster) | — | — | — |",
        f"| peak RSS, whole reduction (photon list, image, {info['depth']}-s movie, photometry) | {red['peak_rss_mib']:.0f} MiB "
        f"| ≈ 6 GB for a MIS-like eclipse at 30 s | ≤ 1.5 GB | {'yes' if goal_mem else 'no'} |",
        f"| image + {info['depth']}-s movie ({red['n_frames']} frames) + photometry ({red['n_sources']} sources), s "
        f"| {rest:.1f} | e09900 NUV: images + 14-frame movie 21.6 s, photometry ≈ 2 s, writes 6.2 s (3 threads) | — | — |",
        "",
        f"Goals. Throughput (≥ 5 M events/s per core, decode + calibrate + aspect): "
        f"{'met' if goal_rate else 'NOT met'} by the kernels ({kern['kernel_rate'] / 1e6:.1f} M per CPU-second); "
        f"the photon-list stage end to end, which adds two zlib passes over the raw6 file and the snappy Parquet "
        f"write, reaches {e2e_cpu_rate / 1e6:.1f} M per CPU-second, "
        f"{'also above' if e2e_cpu_rate >= 5e6 else 'below'} 5 M (I/O and compression take the rest). "
        f"Memory (≤ 1.5 GB for photon list + image + {info['depth']}-s movie + photometry): "
        f"{'met' if goal_mem else 'NOT met'}, {red['peak_rss_mib']:.0f} MiB peak RSS of the reduction process "
        "(about 270 MiB of it is the imported libraries); chunks of 500 k events, movie frames streamed to disk.",
        "",
        f"Load average during the run: {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} on {m['cores']} shared cores "
        "(other engineers' jobs), so wall times are pessimistic; CPU-second rates are per core.",
        "",
        "Stage timings (s): "
        + ", ".join(f"{k} {v:.1f}" for k, v in t.items())
        + f"; total {red['total']:.1f}.",
        "",
    ]
    text = "\n".join(lines)
    md_path.parent.mkdir(parents=True, exist_ok=True)
    md_path.write_text("# Benchmarks: GALEX\n\n" + text)
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000_000)
    parser.add_argument("--depth", type=int, default=30)
    parser.add_argument(
        "--field", type=float, default=0.55, help="sky radius filled with events, degrees"
    )
    parser.add_argument("--kernel-events", type=int, default=5_000_000)
    parser.add_argument(
        "--out", type=Path, default=None, help="work folder (default: a temporary one)"
    )
    parser.add_argument("--md", type=Path, default=ROOT / "docs" / "bench" / "galex.md")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--raw6", help=argparse.SUPPRESS)
    parser.add_argument("--aspect", help=argparse.SUPPRESS)
    parser.add_argument("--products", help=argparse.SUPPRESS)
    parser.add_argument("--compression", default="gzip", help=argparse.SUPPRESS)
    parser.add_argument("--burst", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_reduce(args)
        return
    with tempfile.TemporaryDirectory(prefix="bench_galex_") as tmp:
        work = args.out or Path(tmp)
        t0 = time.perf_counter()
        sim = simulate_eclipse(work / "sim", CAL_DIR, n_events=args.events, seed=1, field_radius_deg=args.field,
                               n_sources=60, compresslevel=1)  # fmt: skip
        simulate_s = time.perf_counter() - t0
        print(f"simulated {sim.n_events:,} events in {simulate_s:.0f} s", flush=True)
        kernels = measure_kernels(sim.raw6_path, sim.aspect_dir, args.kernel_events)
        print(f"kernels: {kernels}", flush=True)
        cmd = [sys.executable, __file__, "--child", "--raw6", str(sim.raw6_path), "--aspect", str(sim.aspect_dir),
               "--products", str(work / "products"), "--depth", str(args.depth)]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode:
            raise SystemExit(proc.stderr)
        reduce_info = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"reduction: {reduce_info}", flush=True)
        info = {
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine(),
            "versions": lib_versions(), "duration": sim.summary["config"]["duration"], "field_deg": args.field,
            "n_sources_planted": len(sim.sources), "raw6_mib": sim.raw6_path.stat().st_size / 2**20,
            "simulate_s": simulate_s, "kernels": kernels, "reduce": reduce_info, "depth": args.depth,
        }  # fmt: skip
        print(write_markdown(args.md, info))


if __name__ == "__main__":
    main()
