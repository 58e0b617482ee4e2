"""Benchmark the light-curve science core against its references and peers; write docs/bench/lightcurves.md.

Run: python bench/bench_lightcurves.py [--data DIR] [--periods N] [--repeats N] [--out PATH]

Measured side by side in one run, on the 17 quarters of KIC 2306740 (the issue's full-mission case):
- JIT: cold compile (empty numba cache) and warm start (cached kernels), in subprocesses;
- the whole path (clean + BIC spline + every view + diagnostics for one TCE), `gaia` and `astronet`;
- the slow AstroNet re-statement (``science/reference.py``) and how closely the views agree;
- AstroNet's spline algorithm on pydl's ``bspline.iterfit`` (the "AstroNet spline" peer), when
  pydl is installed (``bench`` extra);
- our BLS vs astropy's BoxLeastSquares on the same period/duration grid;
- our sliding biweight vs wotan's biweight; our 2001-bin global view vs lightkurve fold().bin().
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

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from apps.lightcurves.science import reference as ref  # noqa: E402
from apps.lightcurves.science.bls import bls  # noqa: E402
from apps.lightcurves.science.cleaning import segment_bounds  # noqa: E402
from apps.lightcurves.science.detrend import biweight_trend  # noqa: E402
from apps.lightcurves.science.io import read_fits  # noqa: E402
from apps.lightcurves.science.pipeline import flatten_lightcurves, prepare, tce_views  # noqa: E402
from apps.lightcurves.science.search import search  # noqa: E402
from apps.lightcurves.science.spline import BKSPACES, fit_spline  # noqa: E402
from apps.lightcurves.science.spline.reference import robust_mean_mask  # noqa: E402
from apps.lightcurves.science.views import PRESETS, binned_view, fold  # noqa: E402

TCE = (10.3071, 138.731, 4.5)  # KIC 2306740 DR24 TCE 1 (BKJD, hours)
DURATIONS_H = np.array([1.0, 2.0, 3.5, 5.0, 8.0])

COLD_SNIPPET = """
import time, glob, sys
t0 = time.perf_counter()
sys.path.insert(0, {root!r})
from apps.lightcurves.science import io, pipeline, bls
import numpy as np
t1 = time.perf_counter()
lcs = [io.read_fits(f) for f in sorted(glob.glob({glob!r}))[:2]]
pipeline.tce_views(lcs, 10.3071, 138.731, 4.5, preset="gaia")
t = np.linspace(0, 30, 2000); bls.bls(t, 1 + 0 * t, np.array([2.0, 3.0]), np.array([0.1]))
pipeline.flatten_lightcurves(lcs, preset="gaia", detrender="biweight")
print(t1 - t0, time.perf_counter() - t1)
"""


def best_of(fn, repeats: int) -> tuple[float, object]:
    """Minimum wall time of ``repeats`` calls (after the caller's warm-up) and the last result."""
    times, out = [], None
    for _ in range(repeats):
        a = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - a)
    return min(times), out


def best_of_threads(fn, repeats: int, threads: int) -> tuple[float, float, object]:
    """Minimum wall and CPU (all threads) seconds of ``repeats`` calls with numba on ``threads``."""
    import numba

    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    try:
        walls, cpus, out = [], [], None
        for _ in range(repeats):
            a, c = time.perf_counter(), time.process_time()
            out = fn()
            walls.append(time.perf_counter() - a)
            cpus.append(time.process_time() - c)
    finally:
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    return min(walls), min(cpus), out


def machine() -> dict[str, str]:
    model = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines()
            if ln.startswith("Model name")
        ),
        "?",
    )
    versions = {}
    for name in ("numpy", "numba", "scipy", "astropy", "wotan", "lightkurve"):
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:  # a peer may be missing
            versions[name] = "not installed"
    return {
        "uname": " ".join(platform.uname()),
        "cpu": model,
        "cores": str(os.cpu_count()),
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "python": platform.python_version(),
        "versions": ", ".join(f"{k} {v}" for k, v in versions.items()),
    }


def jit_times(data: Path) -> dict[str, float]:
    code = COLD_SNIPPET.format(root=str(ROOT), glob=str(data / "kepler/kplr002306740-*_llc.fits"))
    out = {}
    with tempfile.TemporaryDirectory() as cache:
        for label in (
            "cold",
            "warm",
        ):  # the second run loads what the first compiled into the cache
            env = {**os.environ, "NUMBA_CACHE_DIR": cache}
            res = subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
            )
            imp, first = map(float, res.stdout.split())
            out[f"{label}_import"], out[f"{label}_first_call"] = imp, first
    return out


def bench_whole_path(curves, repeats):
    """Best wall and CPU times (one thread) of the whole path and its two halves.

    CPU time is reported beside wall time because the machine's two cores are shared: a
    ~0.1 s single-threaded run is often descheduled, which wall time counts and CPU time not.
    """
    rows = {}
    for preset in ("gaia", "astronet"):
        tce_views(curves, *TCE, preset=preset)
        rows[preset], rows[f"{preset}_cpu"], out = best_of_threads(
            lambda p=preset: tce_views(curves, *TCE, preset=p), repeats, 1
        )
        rows[f"{preset}_n"] = out["n_points"]
    lc = prepare(curves, quality=False)
    bounds = segment_bounds(lc.time, lc.part)
    rows["spline"], rows["spline_cpu"], _ = best_of_threads(
        lambda: fit_spline(lc.time, lc.flux, bounds=bounds), repeats, 1
    )
    flat = flatten_lightcurves(curves, preset="gaia", tces=[])
    rows["views_only"], rows["views_only_cpu"], _ = best_of_threads(
        lambda: tce_views(curves, *TCE, preset="gaia", flat=flat), repeats, 1
    )
    return rows


def bench_reference(curves):
    lc = prepare(curves, quality=False)
    a = time.perf_counter()
    slow = ref.astronet_views(lc.time, lc.flux, lc.part, *TCE, BKSPACES)
    elapsed = time.perf_counter() - a
    ours = tce_views(curves, *TCE, preset="astronet")
    return {
        "time": elapsed,
        "n": int(slow["time"].size),
        "bkspace_ref": slow["bkspace"],
        "bkspace_ours": ours.diagnostics["bkspace"],
        "global_maxdiff": float(np.max(np.abs(ours.views["global_view"] - slow["global_view"]))),
        "local_maxdiff": float(np.max(np.abs(ours.views["local_view"] - slow["local_view"]))),
    }


def pydl_segment_spline(t, f, bkspace, maxiter=5, cut=3.0):
    """One segment as AstroNet's kepler_spline is documented (research/cnn-anchors.md section 1).

    Time rescaled to [0, 1]; a cubic B-spline from pydl's ``iterfit`` with the spacing in those
    units; refitted (up to ``maxiter`` fits) on the points robust_mean keeps at ``cut`` sigma
    until that mask stops changing. Returns (model, mask), or None below 4 usable points.
    """
    from pydl.pydlutils.bspline import iterfit

    if t.size < 4:
        return None
    span = t[-1] - t[0]
    x = (t - t[0]) / span
    mask = np.ones(t.size, dtype=bool)
    model = None
    for _ in range(maxiter):
        if model is not None:
            new = robust_mean_mask(f - model, cut)
            if np.array_equal(new, mask):
                break
            mask = new
        if mask.sum() < 4:
            return None
        sset, _ = iterfit(x[mask], f[mask], bkspace=bkspace / span)
        model = sset.value(x)[0]
    return model, mask


def pydl_choose_spline(segments, bkspaces):
    """AstroNet's BIC choice of spacing (cnn-anchors.md section 1) over pydl fits.

    sigma = 1.48 median |diff f| / sqrt 2 over all segments; BIC = N ln(2 pi sigma^2) +
    SSR / sigma^2 + sum(nknots + 3 - 1) ln N with nknots = int(span / bkspace) + 1; a spacing
    whose fit fails is skipped. Returns (chosen bkspace, the chosen spline per segment).
    """
    diffs = np.concatenate([np.diff(f) / np.sqrt(2) for _, f in segments])
    sigma = 1.48 * np.median(np.abs(diffs))
    best = (np.inf, float("nan"), None)
    for bk in bkspaces:
        nparams, npoints, ssr, models = 0, 0, 0.0, []
        try:
            for t, f in segments:
                fit = pydl_segment_spline(t, f, bk)
                if fit is None:
                    models.append(np.full(t.size, np.nan))
                    continue
                model, mask = fit
                models.append(model)
                nparams += int((t[-1] - t[0]) / bk) + 1 + 3 - 1
                npoints += int(mask.sum())
                ssr += float(np.sum((f[mask] - model[mask]) ** 2))
        except (ValueError, IndexError, np.linalg.LinAlgError):
            # a bad breakpoint (an empty knot interval): AstroNet skips the spacing. pydl 1.0.1
            # under numpy 2 reports it as an IndexError from its masking step.
            continue
        if npoints == 0:
            continue
        bic = npoints * np.log(2 * np.pi * sigma**2) + ssr / sigma**2
        bic += nparams * np.log(npoints)
        if bic < best[0]:
            best = (bic, float(bk), models)
    return best[1], best[2]


def bench_pydl(curves):
    """Time AstroNet's spline algorithm on pydl (one run: it takes seconds) against ours."""
    import warnings

    try:
        import pydl  # noqa: F401
    except ImportError:
        return None
    lc = prepare(curves, quality=False)
    segments = list(zip(*ref.split(lc.time, lc.flux, lc.part), strict=True))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = time.perf_counter()
        bkspace, models = pydl_choose_spline(segments, BKSPACES)
        elapsed = time.perf_counter() - a
    ours = fit_spline(lc.time, lc.flux, bounds=segment_bounds(lc.time, lc.part))
    theirs = np.concatenate(models)
    ok = np.isfinite(theirs) & np.isfinite(ours.trend)
    return {
        "time": elapsed,
        "version": importlib.metadata.version("pydl"),
        "bkspace": bkspace,
        "bkspace_ours": ours.bkspace,
        "max_rel_diff": float(np.max(np.abs(ours.trend[ok] / theirs[ok] - 1))),
    }


def bench_bls(curves, n_periods, repeats):
    from astropy.timeseries import BoxLeastSquares

    flat = flatten_lightcurves(curves, preset="gaia")
    t, f = flat.time, flat.flux
    periods = np.geomspace(0.5, 50.0, n_periods)
    durations = DURATIONS_H / 24
    bls(t, f, periods[:10], durations)
    ours_t, ours_cpu, ours = best_of_threads(lambda: bls(t, f, periods, durations), repeats, 1)
    ours2_t, ours2_cpu, _ = best_of_threads(lambda: bls(t, f, periods, durations), repeats, 2)
    a = time.perf_counter()
    theirs = BoxLeastSquares(t, f).power(periods, durations, objective="likelihood")
    astropy_t = time.perf_counter() - a
    a = time.perf_counter()
    found = search(t, f, periods, durations, max_signals=1)
    search_t = time.perf_counter() - a
    return {
        "n": int(t.size),
        "ours": ours_t,
        "ours_cpu": ours_cpu,
        "ours_2threads": ours2_t,
        "ours_2threads_cpu": ours2_cpu,
        "astropy": astropy_t,
        "ours_period": float(ours.periods[ours.best]),
        "astropy_period": float(theirs.period[np.argmax(theirs.power)]),
        "search": search_t,
        "search_period": found[0].period if found else float("nan"),
        "search_doubled": bool(found and found[0].doubled),
    }


def bench_biweight(curves, repeats):
    from wotan import flatten

    lc = prepare(curves, quality=True)
    n = min(48000, len(lc))
    t, f = lc.time[:n], lc.flux[:n] / np.median(lc.flux[:n])
    bounds = segment_bounds(t, lc.part[:n])

    def ours_on(parallel):
        return biweight_trend(t, f, window_days=0.5, bounds=bounds, parallel=parallel)

    ours_on(False)
    ours_on(True)
    ours_t, _, ours = best_of_threads(lambda: ours_on(False), repeats, 1)
    ours2_t, _, ours2 = best_of_threads(lambda: ours_on(True), repeats, 2)
    flatten(t, f, method="biweight", window_length=0.5, return_trend=True)

    def run_wotan():
        return flatten(
            t,
            f,
            method="biweight",
            window_length=0.5,
            return_trend=True,
            break_tolerance=0.75,
            edge_cutoff=0,
        )

    wotan_t, _, (_, trend) = best_of_threads(run_wotan, repeats, 1)
    wotan2_t, _, _ = best_of_threads(run_wotan, repeats, 2)
    ok = np.isfinite(trend)
    return {
        "n": n,
        "ours": ours_t,
        "ours_2threads": ours2_t,
        "parallel_same": bool(np.array_equal(ours, ours2)),
        "wotan": wotan_t,
        "wotan_2threads": wotan2_t,
        "median_rel_diff": float(np.median(np.abs(ours[ok] / trend[ok] - 1))),
        "p99_rel_diff": float(np.percentile(np.abs(ours[ok] / trend[ok] - 1), 99)),
    }


def bench_fold_bin(curves, repeats):
    import warnings

    import lightkurve as lk

    flat = flatten_lightcurves(curves, preset="gaia", tces=[])
    t, f = flat.time, flat.flux
    period, epoch = TCE[0], TCE[1]
    spec = PRESETS["gaia"].global_view

    def ours():
        phase = fold(t, period, epoch)
        order = np.argsort(phase)
        return binned_view(phase[order], f[order], spec, period, TCE[2] / 24, float(np.median(f)))[
            0
        ]

    ours()
    ours_t, _ = best_of(ours, repeats)
    curve = lk.LightCurve(time=t, flux=f)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        curve.fold(period=period, epoch_time=epoch).bin(bins=2001)
        lk_t, _ = best_of(
            lambda: curve.fold(period=period, epoch_time=epoch).bin(bins=2001), max(1, repeats // 2)
        )
    return {"n": int(t.size), "ours": ours_t, "lightkurve": lk_t}


def ms(rows: dict, key: str) -> str:
    """'wall ms (CPU ms)' of a best_of_threads measurement stored as key and key_cpu."""
    return f"{rows[key] * 1e3:.0f} ms (CPU {rows[f'{key}_cpu'] * 1e3:.0f} ms)"


def pydl_rows(pyd, whole) -> tuple[list[str], str]:
    """Table row and goal sentence for the pydl AstroNet-spline peer (or why it is missing)."""
    if pyd is None:
        return [], "AstroNet's spline on pydl not timed (pydl is not installed: `bench` extra)"
    spline_x, whole_x = pyd["time"] / whole["spline"], pyd["time"] / whole["astronet"]
    row = (
        f"| AstroNet's spline algorithm on pydl {pyd['version']} `bspline.iterfit` (20 spacings, "
        f"robust_mean clipping, BIC), one run | our BIC spline {whole['spline'] * 1e3:.0f} ms | "
        f"{pyd['time']:.1f} s | {spline_x:.0f}x (whole `astronet` path: {whole_x:.0f}x) | chosen "
        f"bkspace: pydl {pyd['bkspace']:.3f} d, ours {pyd['bkspace_ours']:.3f} d; trends differ by "
        f"at most {pyd['max_rel_diff']:.1e} (relative) |"
    )
    goal = (
        f"{'met' if whole_x >= 50 else 'not met'} against AstroNet's spline on pydl "
        f"({whole_x:.0f}x for the whole path, {spline_x:.0f}x for the spline alone)"
    )
    return [row], goal


def render(m, jit, whole, refr, blsr, bw, fb, pyd, args) -> str:
    speed_ref = refr["time"] / whole["astronet"]
    pydl_row, pydl_goal = pydl_rows(pyd, whole)
    bw_met = bw["ours"] <= bw["wotan"] and bw["ours_2threads"] <= bw["wotan_2threads"]
    lines = [
        "## Light-curve science (`bench/bench_lightcurves.py`)",
        "",
        f"Machine: `{m['uname']}`; CPU {m['cpu']}, {m['cores']} cores (shared; load average at start {m['load']}); {m['date']}; "
        f"Python {m['python']}; {m['versions']}. Timings are wall-clock (CPU time in brackets where shown), best of {args.repeats}, one thread unless noted "
        "(our BLS kernel, our biweight (its parallel kernel) and wotan's biweight are numba-parallel and are shown on 1 and 2 threads; the second core is "
        "shared with other work, so 2-thread numbers vary; astropy's BLS extension is built without OpenMP here).",
        "",
        "Data: the 17 long-cadence quarters of KIC 2306740 (eclipsing binary, P = 10.307 d); TCE: DR24 TCE 1 "
        f"(P = {TCE[0]} d, T0 = {TCE[1]} BKJD, D = {TCE[2]} h).",
        "",
        "| step | ours | reference / peer | ratio | notes |",
        "|---|---|---|---|---|",
        f"| JIT compile, cold numba cache (first call of tce_views + bls + biweight) | {jit['cold_first_call']:.1f} s | - | - | import {jit['cold_import']:.2f} s |",
        f"| first call with kernels loaded from the cache (`cache=True`) | {jit['warm_first_call']:.2f} s | - | - | import {jit['warm_import']:.2f} s |",
        f"| whole path `astronet` ({whole['astronet_n']} pts): clean, BIC spline, all views, diagnostics | {ms(whole, 'astronet')} | slow AstroNet re-statement {refr['time']:.1f} s | {speed_ref:.0f}x | AstroNet's own spline: 4.6-6.7 s (issue) |",
        f"| whole path `gaia` ({whole['gaia_n']} pts; quality mask, masked spline, centroid detrend) | {ms(whole, 'gaia')} | - | - | |",
        f"| BIC spline alone (20 spacings x 5 clip passes) | {ms(whole, 'spline')} | - | - | |",
        f"| views + diagnostics on a flattened series | {ms(whole, 'views_only')} | - | - | |",
        *pydl_row,
        f"| BLS, {args.periods} log periods 0.5-50 d x 5 durations, {blsr['n']} pts, 1 thread | {blsr['ours']:.2f} s | astropy BoxLeastSquares {blsr['astropy']:.2f} s | {blsr['astropy'] / blsr['ours']:.1f}x | best P: ours {blsr['ours_period']:.5f}, astropy {blsr['astropy_period']:.5f} |",
        f"| same BLS, 2 threads | {blsr['ours_2threads']:.2f} s ({blsr['ours_2threads_cpu']:.2f} CPU-s) | astropy {blsr['astropy']:.2f} s | {blsr['astropy'] / blsr['ours_2threads']:.1f}x | 1 thread: {blsr['ours_cpu']:.2f} CPU-s |",
        f"| search (BLS + refine + P vs P/2 check), 1 signal | {blsr['search']:.2f} s | - | - | reports P = {blsr['search_period']:.5f} d (doubled from BLS peak: {blsr['search_doubled']}) |",
        f"| sliding biweight, window 0.5 d, {bw['n']} pts, 1 thread | {bw['ours'] * 1e3:.1f} ms | wotan biweight {bw['wotan'] * 1e3:.1f} ms | {bw['wotan'] / bw['ours']:.2f}x | trend differs from wotan's by median {bw['median_rel_diff']:.1e}, 99th pct {bw['p99_rel_diff']:.1e} (relative) |",
        f"| same biweight, 2 threads | {bw['ours_2threads'] * 1e3:.1f} ms | wotan {bw['wotan_2threads'] * 1e3:.1f} ms | {bw['wotan_2threads'] / bw['ours_2threads']:.2f}x | same trend as 1 thread: {bw['parallel_same']} |",
        f"| 2001-bin global view (fold + sort + median bins), {fb['n']} pts | {fb['ours'] * 1e3:.1f} ms | lightkurve fold().bin() {fb['lightkurve'] * 1e3:.0f} ms | {fb['lightkurve'] / fb['ours']:.0f}x | |",
        "",
        "Agreement with the slow AstroNet re-statement (`science/reference.py`, which re-states exoplanet-ml's "
        "`kepler_spline`/`robust_mean`/`util.split`/`bin_and_aggregate`/`generate_view` with scipy B-splines in place "
        f"of pydl): chosen bkspace {refr['bkspace_ours']:.3f} d vs {refr['bkspace_ref']:.3f} d, {refr['n']} points, "
        f"max |difference| global view {refr['global_maxdiff']:.1e}, local view {refr['local_maxdiff']:.1e}. "
        "Compared: gap split, BIC spacing choice, the iterative spline, flux/spline, phase fold, median binning, "
        "empty-bin fill, normalisation. The spline is also checked against AstroNet's algorithm on pydl's own "
        "`bspline.iterfit` (row above, when pydl is installed). Not compared: TensorFlow's own output "
        "(TensorFlow is not installable here, so AstroNet's TFRecords cannot be produced).",
        "",
        "Goals (issue 4):",
        f"- whole path <= 0.1 s on one core after JIT: {'met' if whole['gaia_cpu'] <= 0.1 and whole['astronet_cpu'] <= 0.1 else 'not met'} "
        f"in CPU time (gaia {whole['gaia_cpu'] * 1e3:.0f} ms, astronet {whole['astronet_cpu'] * 1e3:.0f} ms); wall time, which counts the time "
        f"this shared 2-core machine gave to other work, {'met' if whole['gaia'] <= 0.1 and whole['astronet'] <= 0.1 else 'not met'} "
        f"(gaia {whole['gaia'] * 1e3:.0f} ms, astronet {whole['astronet'] * 1e3:.0f} ms); "
        f">= 50x faster than the AstroNet spline: {pydl_goal}; {speed_ref:.0f}x against our slow scipy "
        f"re-statement, and {4.6 / whole['astronet']:.0f}-{6.7 / whole['astronet']:.0f}x against the issue's 4.6-6.7 s.",
        f"- BLS >= 10x astropy with the same best period: speed {'met' if blsr['astropy'] / blsr['ours'] >= 10 else 'not met'} "
        f"({blsr['astropy'] / blsr['ours']:.1f}x on 1 thread, {blsr['astropy'] / blsr['ours_2threads']:.1f}x on 2); same best period: {'yes' if abs(blsr['ours_period'] / blsr['astropy_period'] - 1) < 1e-3 else 'no'}. "
        "Our phase resolution is min(duration)/3 on a time grid whose cell sums are folded in float32 "
        "(cumulative sums and objective in float64); astropy's is min(duration)/10 per point.",
        f"- sliding biweight at least as fast as wotan's on the same number of threads: {'met' if bw_met else 'not met'} "
        f"(1 thread: ours {bw['ours'] * 1e3:.1f} ms, wotan {bw['wotan'] * 1e3:.1f} ms; 2 threads: ours {bw['ours_2threads'] * 1e3:.1f} ms, "
        f"wotan {bw['wotan_2threads'] * 1e3:.1f} ms).",
        f"- search reports the true period of the EB (not P/2): {'yes' if abs(blsr['search_period'] / 10.307 - 1) < 1e-3 else 'no'}.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data",
        type=Path,
        default=Path(os.environ.get("GAIA_DEMO_DATA", ROOT.parent / "shared" / "data")),
    )
    parser.add_argument(
        "--periods", type=int, default=20000, help="BLS trial periods (full grid: 20000)"
    )
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--no-pydl", action="store_true", help="skip AstroNet's spline on pydl (it takes seconds)"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "bench" / "lightcurves.md")
    args = parser.parse_args()
    curves = [read_fits(p) for p in sorted(args.data.glob("kepler/kplr002306740-*_llc.fits"))]
    m = machine()
    print("jit ...", flush=True)
    jit = jit_times(args.data)
    print("whole path ...", flush=True)
    whole = bench_whole_path(curves, args.repeats)
    print("reference ...", flush=True)
    refr = bench_reference(curves)
    print("bls ...", flush=True)
    blsr = bench_bls(curves, args.periods, max(1, args.repeats // 2))
    print("biweight ...", flush=True)
    bw = bench_biweight(curves, args.repeats)
    print("fold/bin ...", flush=True)
    fb = bench_fold_bin(curves, args.repeats)
    print("AstroNet spline on pydl ...", flush=True)
    pyd = None if args.no_pydl else bench_pydl(curves)
    text = render(m, jit, whole, refr, blsr, bw, fb, pyd, args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)
    print(
        json.dumps(
            {
                "jit": jit,
                "whole": whole,
                "reference": refr,
                "bls": blsr,
                "biweight": bw,
                "fold_bin": fb,
                "pydl": pyd,
            },
            default=float,
        )
    )


if __name__ == "__main__":
    main()
