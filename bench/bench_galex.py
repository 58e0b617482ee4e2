"""Benchmark the GALEX photon pipeline on a synthetic eclipse; write docs/bench/galex.md.

    python bench/bench_galex.py [--events 20000000] [--depth 30] [--out DIR] [--md docs/bench/galex.md]

Measures, in one run: (1) photon-pipeline throughput (decode + calibrate + aspect -> photon
list) of the numba kernels alone on in-memory chunks, and end to end from the gzip raw6 file
to the Parquet photon list, both in a warm process (kernels loaded, as in a worker that has
run a job before) and cold, as the first stage of (3); (2) the same kernels' slow numpy
references on a sample, for the speed-up; (3) the whole reduction (photon list, image, 30-s
movie, photometry) in a fresh child process with its peak RSS.
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
from apps.galex.science.aspect import apply_aspect_reference, read_aspect  # noqa: E402
from apps.galex.science.calibration import references as calib_ref  # noqa: E402
from apps.galex.science.constants import band_constants  # noqa: E402
from apps.galex.science.photonlist import LegStats, make_photonlists  # noqa: E402
from apps.galex.science.photonlist.make import CACHE_ROWS, ChunkCalibrator  # noqa: E402
from apps.galex.science.raw6 import Raw6Reader  # noqa: E402
from apps.galex.science.raw6.fields import center_scale_reference, decode_reference  # noqa: E402
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

    t0, c0 = time.perf_counter(), time.process_time()
    result = reduce_eclipse(args.raw6, args.aspect, args.products, band="NUV", depth=args.depth,
                            compression=args.compression, burst=args.burst, cal_dir=CAL_DIR,
                            threads=args.threads)  # fmt: skip
    total, cpu = time.perf_counter() - t0, time.process_time() - c0
    leg = result.legs[0]
    print(json.dumps({"timings": result.timings, "total": total, "cpu": cpu, "threads": args.threads,
                      "load": os.getloadavg()[0], "peak_rss_mib": peak_rss_mib(),
                      "n_events": result.n_events, "n_kept": result.n_kept, "n_sources": leg.n_sources,
                      "n_frames": leg.n_frames, "image": str(leg.image), "warnings": result.warnings}))  # fmt: skip


def kernel_chain(t, phb, cal, bc, asp, reference=False):
    """decode + calibrate + aspect of one chunk; phb shape (5, n) as the reader yields it."""
    if reference:
        fields = decode_reference(phb.T)
        x, y, ya = center_scale_reference(fields, bc)
        xdig, ydig, flags = calib_ref.wiggle_reference(
            x, y, fields["xa"], ya, cal.wiggle_x, cal.wiggle_y
        )
        xp, yp, flags = calib_ref.walk_reference(xdig, ydig, fields["q"], flags, cal.walk_x, cal.walk_y)
        dx, dy, flags = calib_ref.linearity_reference(xp, yp, flags, cal.linearity_x, cal.linearity_y)
        xs, ys, flags = calib_ref.distortion_reference(xp, yp, t, flags, 5190.0, 0.0, cal.distortion_x,
                                                   cal.distortion_y, cal.distortion_header, 0.0, 0.0)  # fmt: skip
        xi, eta, col, row, flags = calib_ref.detector_reference(xp, yp, dx, dy, xs, ys, flags, bc.flip)
        apply_aspect_reference(t, xi, eta, flags, asp)
        calib_ref.response_reference(col, row, t, cal.flat, cal.mask, bc.flat_scale)
        return
    # Exactly what the photon-list stage runs, in the same cache-sized slices.
    calibrate = ChunkCalibrator(calib.DetectorSetup(cal, bc, (5190.0, 0.0)))
    stats = LegStats(0, None)
    for lo in range(0, len(t), CACHE_ROWS):
        part = slice(lo, lo + CACHE_ROWS)
        cols = calibrate(t[part], phb[:, part], asp)
        stats.update(cols["t"], cols["ra"], cols["dec"], cols["flags"], cols["detrad"])


def measure_kernels(raw6: Path, aspect: Path, n_sample: int) -> dict:
    bc = band_constants("NUV", 23456)
    cal = calib.load_calibration(CAL_DIR, "NUV", 23456)
    asp = read_aspect(aspect, 23456)
    with Raw6Reader(raw6) as reader:
        chunks = []
        for t, phb in reader.columns(500_000):
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


def measure_photonlist_warm(sim, work: Path, warmup_events: int = 50_000) -> dict:
    """End-to-end photon list (raw6 -> Parquet) in this process, after a small warm-up run."""
    small = simulate_eclipse(work / "warmup", CAL_DIR, n_events=warmup_events, seed=2)
    make_photonlists(small.raw6_path, small.aspect_dir, work / "warmup" / "out", band="NUV",
                     cal_dir=CAL_DIR)  # fmt: skip
    t0, c0 = time.perf_counter(), time.process_time()
    result = make_photonlists(sim.raw6_path, sim.aspect_dir, work / "warm_photonlist", band="NUV",
                              cal_dir=CAL_DIR)  # fmt: skip
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"rate": result.n_events / cpu, "rate_wall": result.n_events / wall, "cpu": cpu,
            "wall": wall, "n_events": result.n_events}  # fmt: skip


def lib_versions() -> str:
    import importlib.metadata as md

    names = ("numpy", "numba", "astropy", "photutils", "pyarrow", "scipy", "pandas", "isal")
    out = []
    for name in names:
        try:
            out.append(f"{name} {md.version(name)}")
        except md.PackageNotFoundError:
            out.append(f"{name} absent")
    return ", ".join(out)


def machine() -> dict:
    model = "unknown"
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    return {"uname": " ".join(platform.uname()), "cpu": model, "cores": os.cpu_count()}


# The same script's figures before the single-inflate / fused-kernel rework (run of
# 2026-11-23 20:27 UTC, this machine, 19.8 M events), for the before/after line.
PREVIOUS = {"kernel_rate": 6.70e6, "e2e_cold_rate": 2.59e6, "e2e_cold_wall": 1.98e6,
            "peak_rss_mib": 861, "threads_speedup": "1.41x (23.95 vs 17.01 s, 2026-12-07 15:10 UTC)"}  # fmt: skip
RUNS_EACH = 3  # reductions per thread count, alternating 1, 2, 1, 2, ...: the best of each is kept


def write_markdown(md_path: Path, info: dict) -> str:
    m = info["machine"]
    red = info["reduce"]
    two = red["threads2"]
    t = red["timings"]
    photon_s = t["photon list"]
    cold_rate = red["n_events"] / t["photon list cpu"]
    cold_wall = red["n_events"] / photon_s
    warm = info["warm"]
    rest = red["total"] - photon_s
    load = os.getloadavg()
    kern = info["kernels"]
    goal_rate = warm["rate"] >= 5e6
    goal_mem = red["peak_rss_mib"] <= 1536
    prev = PREVIOUS
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
        "| measure | ours | before this rework | gPhoton 2 (published, not runnable here) | goal | met |",
        "|---|---|---|---|---|---|",
        f"| photon list end to end, warm process (1 inflate + decode + calibrate + aspect + Parquet write), "
        f"events per CPU-second | **{warm['rate'] / 1e6:.2f} M** (wall {warm['rate_wall'] / 1e6:.2f} M/s) | — | "
        f"{GPHOTON_RATE / 1e6:.2f} M with 3 threads (29.3 M events in 11.3 s) ≈ {GPHOTON_RATE / 3e6:.2f} M per core "
        f"| ≥ 5 M | {'yes' if goal_rate else 'no'} |",
        f"| same, cold: first stage of a fresh process (adds numba cache loading, calibration reads), "
        f"events per CPU-second | {cold_rate / 1e6:.2f} M (wall {cold_wall / 1e6:.2f} M/s) | "
        f"{prev['e2e_cold_rate'] / 1e6:.2f} M (wall {prev['e2e_cold_wall'] / 1e6:.2f} M/s) | as above | — | — |",
        f"| kernels alone on in-memory chunks (decode + calibrate + aspect), events per CPU-second "
        f"| {kern['kernel_rate'] / 1e6:.2f} M (wall {kern['kernel_rate_wall'] / 1e6:.2f} M/s) "
        f"| {prev['kernel_rate'] / 1e6:.2f} M | — | — | — |",
        f"| same kernels as slow numpy references (1 M events), events/s | {kern['reference_rate'] / 1e6:.2f} M "
        f"(numba {kern['speedup']:.1f}x faster) | — | — | — | — |",
        f"| peak RSS, whole reduction (photon list, image, {info['depth']}-s movie, photometry) | {red['peak_rss_mib']:.0f} MiB "
        f"| {prev['peak_rss_mib']} MiB | ≈ 6 GB for a MIS-like eclipse at 30 s | ≤ 1.5 GB | {'yes' if goal_mem else 'no'} |",
        f"| whole reduction, wall s, 1 thread vs `--threads 2` (best of {RUNS_EACH} runs each, alternating; all runs: "
        f"{info['all_totals']}) | {red['total']:.1f} vs "
        f"{two['total']:.1f}: **{red['total'] / two['total']:.2f}x** (CPU {red['cpu']:.1f} vs {two['cpu']:.1f} s; load "
        f"{red['load']:.1f} / {two['load']:.1f}) | {prev['threads_speedup']} | threads=3 in the e09900 log above | ≥ 1.7x | "
        f"{'yes' if red['total'] / two['total'] >= 1.7 else 'no'} |",
        f"| peak RSS with `--threads 2` | {two['peak_rss_mib']:.0f} MiB | — | — | ≤ 1.5 GB | {'yes' if two['peak_rss_mib'] <= 1536 else 'no'} |",
        f"| image + {info['depth']}-s movie ({red['n_frames']} frames) + photometry ({red['n_sources']} sources), s "
        f"| {rest:.1f} | — | e09900 NUV: images + 14-frame movie 21.6 s, photometry ≈ 2 s, writes 6.2 s (3 threads) | — | — |",
        "",
        f"Goals. Throughput (≥ 5 M events/s per core for decode + calibrate + aspect → photon list): "
        f"{'met' if goal_rate else 'NOT met'} end to end in a warm process ({warm['rate'] / 1e6:.1f} M per CPU-second, "
        f"{warm['n_events']:,} events in {warm['cpu']:.1f} CPU-s); the cold figure ({cold_rate / 1e6:.1f} M) also pays "
        f"the one-off start of a fresh process (about {max(t['photon list cpu'] - warm['cpu'], 0):.1f} CPU-s here: numba loading "
        "its cached kernels and its own modules, reading the calibration files), once per worker process. "
        f"Memory (≤ 1.5 GB for photon list + image + {info['depth']}-s movie + photometry): "
        f"{'met' if goal_mem else 'NOT met'}, {red['peak_rss_mib']:.0f} MiB peak RSS of the reduction process "
        "(about 270 MiB of it is the imported libraries); chunks of 500 k events calibrated in slices of "
        f"{CACHE_ROWS:,}, at most 256 MiB of parked raw events between the two passes (beyond that they go to a "
        "temporary file), movie frames streamed to disk.",
        "",
        "How the photon-list stage gets there: the gzip raw6 file is inflated once (ISA-L `isal.igzip`, "
        "stdlib gzip as fallback), the stim pass parks the raw events (13 bytes each) for the calibration pass "
        "instead of inflating the file a second time; the on-detector steps and the detector response run as one "
        "staged kernel over blocks of 1024 events (vectorised arithmetic loops, separate gather loops, float32 copies "
        "of the float32 calibration tables) and the aspect step likewise; the Parquet columns are required (no "
        "definition levels), snappy only on t/flags/mask, min/max statistics on every column (gPhoton 2 reads row group 0's).",
        "",
        f"Load average during the run: {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} on {m['cores']} shared cores "
        "(other engineers' jobs), so wall times are pessimistic; CPU-second rates are per core, and vary by about "
        "±15% from run to run on this shared machine.",
        "",
        "Stage timings of the cold reduction (s): "
        + ", ".join(f"{k} {v:.1f}" for k, v in t.items())
        + f"; total {red['total']:.1f}. With `--threads 2`: "
        + ", ".join(f"{k} {v:.1f}" for k, v in two["timings"].items())
        + f"; total {two['total']:.1f}.",
        "",
        "What `--threads N` runs side by side: in the photon-list stage, the decode and stim search of a chunk while "
        "the next chunk is inflated, the cache-sized slices of a chunk through the calibration and aspect kernels "
        "(numba, `nogil=True`), and the Parquet write of a chunk (on a writer thread) while the next is calibrated; "
        "in the image pass, the next batches read and projected on a second thread while this one sums them, and "
        "the COVERAGE plane beside the pass; per leg, the source detection (its background and rms meshes, and the "
        "photometry sky beside the deblending, on one more thread) and the compressed image write on two workers "
        "while this thread compresses and writes the movie, its frames binned ahead on another (frames kept sparse "
        "until the sources are known, then measured here: exact-aperture weights cut once per leg, a few ms a "
        "frame). Products are identical whatever N (a test checks). What was changed for this figure, and why: "
        "the movie's gzip now uses ISA-L's deflate as gPhoton 2 does (`igzip`; zlib took 5.7 s of one core), "
        "frame photometry cuts its aperture weights once instead of photutils building them for every frame "
        "(5.3 s), the preview's block sums and the sparse frames are numba kernels, and the image is no longer "
        "byteswapped in place by astropy while the detection reads it (which made a threaded run find 0 sources "
        "once the two ran side by side; a test guards it). The machine's two cores are shared: when the load "
        "average is above 1, the second thread mostly waits for a core.",
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
    parser.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
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
        warm = measure_photonlist_warm(sim, work)
        print(f"photon list, warm: {warm}", flush=True)
        runs: dict[int, list[dict]] = {1: [], 2: []}
        for threads in (1, 2) * RUNS_EACH:  # side by side, alternating, so both meet the same load
            cmd = [sys.executable, __file__, "--child", "--raw6", str(sim.raw6_path), "--aspect", str(sim.aspect_dir),
                   "--products", str(work / f"products{threads}-{len(runs[threads])}"), "--depth", str(args.depth),
                   "--threads", str(threads)]  # fmt: skip
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode:
                raise SystemExit(proc.stderr)
            runs[threads].append(json.loads(proc.stdout.strip().splitlines()[-1]))
            print(f"reduction, {threads} thread(s): {runs[threads][-1]}", flush=True)
        reduce_info = min(runs[1], key=lambda r: r["total"])
        reduce_info["threads2"] = min(runs[2], key=lambda r: r["total"])
        info = {
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine(),
            "versions": lib_versions(), "duration": sim.summary["config"]["duration"], "field_deg": args.field,
            "n_sources_planted": len(sim.sources), "raw6_mib": sim.raw6_path.stat().st_size / 2**20,
            "simulate_s": simulate_s, "kernels": kernels, "reduce": reduce_info, "depth": args.depth,
            "warm": warm,
            "all_totals": "; ".join(f"{n} thread(s) " + ", ".join(f"{r['total']:.1f}" for r in runs[n]) for n in (1, 2)),
        }  # fmt: skip
        print(write_markdown(args.md, info))


if __name__ == "__main__":
    main()
