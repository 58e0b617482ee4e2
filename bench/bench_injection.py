"""Injection-recovery of the whole chain: planted transits -> light-curve search -> views -> CNN.

Run ``python bench/bench_injection.py`` (also part of ``make bench``) (about 10-15 minutes on 2 shared cores; ``--quick``
for a smoke run). Writes docs/ml/injection_recovery.md and .json.

* search_fn: the light-curve pipeline's ``search_transits`` (``gaia`` cleaning, AstroNet spline
  detrending, BLS over 20,000 log periods 0.5 d .. min(baseline/2, 100 d), durations 1-8 h, up to
  3 signals, SDE >= 6 and SNR >= 7).
* classify_fn: ``apps.lightcurves.science.pipeline.tce_views`` with the ``yu2019`` preset, scored by
  the shipped triage model (raw score >= 0.5 counts as a planet/EB candidate).
* light curves: real Kepler noise from the demo data (``kepler_noise_light_curves``) and simulated
  Kepler-like quarters (white + red noise + rotation + gaps).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from apps.lightcurves.science.io import LightCurve  # noqa: E402
from apps.lightcurves.science.pipeline import search_transits, tce_views  # noqa: E402
from apps.lightcurves.science.search_run import SearchOptions  # noqa: E402
from apps.ml.science import injection as inj  # noqa: E402
from apps.ml.science import noise  # noqa: E402
from apps.ml.science.inference import score  # noqa: E402
from apps.ml.science.registry import load_model  # noqa: E402

MODEL = load_model(task="triage")
THRESHOLD = 0.5


def search_fn(time_: np.ndarray, flux: np.ndarray) -> list[tuple[float, float, float]]:
    baseline = float(time_.max() - time_.min())
    signals = search_transits([_light_curve(time_, flux)], SearchOptions(period_max=min(baseline / 2, 100.0)))
    return [(s.period, s.epoch, s.duration_hours) for s in signals]


def _light_curve(time_: np.ndarray, flux: np.ndarray) -> LightCurve:
    """A LightCurve of flux only. Centroids get 1e-3 px of noise: the pipeline also detrends them,
    and a constant centroid makes its spline BIC divide by zero."""
    n = time_.size
    rng = np.random.default_rng(n)
    sigma = np.full(n, float(np.median(np.abs(np.diff(flux)))) or 1e-4)
    col, row = rng.normal(0, 1e-3, n), rng.normal(0, 1e-3, n)
    return LightCurve(time_, flux, sigma, flux, sigma, col, row, np.zeros(n, np.int64))


def classify_fn(
    time_: np.ndarray, flux: np.ndarray, detection: tuple[float, float, float]
) -> float:
    period, epoch, hours = detection
    try:
        views = tce_views([_light_curve(time_, flux)], period, epoch, hours, preset="yu2019")
    except Exception as exc:  # noqa: BLE001 - a view the pipeline cannot build is a rejected candidate
        print(f"  views failed for P={period:.3f}: {exc}", flush=True)
        return 0.0
    wanted = {b.view: views.views[b.view] for b in MODEL.model.config.branches}
    return float(score(MODEL.model, wanted).raw[0])


def light_curves(quick: bool) -> list[tuple[str, np.ndarray, np.ndarray, tuple[float, float], int]]:
    """(name, time, flux, Rp/R* range, injections) per light curve."""
    rng = np.random.default_rng(2026)
    real = noise.kepler_noise_light_curves(REPO.parent / "shared" / "data")
    out = [
        (real[1][0], real[1][1], real[1][2], (0.003, 0.03), 8 if quick else 60),
        (real[0][0], real[0][1], real[0][2], (0.01, 0.08), 3 if quick else 25),
    ]
    for k in range(1 if quick else 4):
        t, f = noise.simulated_light_curve(days=90, rng=rng)
        out.append((f"simulated quarter {k + 1}", t, f, (0.004, 0.04), 4 if quick else 15))
    return out


def run(quick: bool) -> dict:
    rng = np.random.default_rng(7)
    injections, started = [], time.perf_counter()
    curves = light_curves(quick)
    for name, t, f, rp_range, n in curves:
        print(f"{name}: {n} injections", flush=True)
        injections += inj.injection_recovery(
            search_fn,
            [(name, t, f)],
            n_per_light_curve=n,
            rng=rng,
            classify_fn=classify_fn,
            threshold=THRESHOLD,
            period_range=(1.0, 40.0),
            rp_rs_range=rp_range,
        )
    print("null tests", flush=True)
    fpr = inj.false_positive_rates(
        search_fn,
        [(n, t, f) for n, t, f, _, _ in curves],
        rng=rng,
        classify_fn=classify_fn,
        threshold=THRESHOLD,
        n_scrambles=1 if quick else 3,
    )
    return {
        "injections": [i.to_dict() for i in injections],
        "false_positives": fpr,
        "seconds": time.perf_counter() - started,
    }


def render(result: dict) -> str:
    rows = result["injections"]
    mes = np.array([r["mes"] for r in rows])
    detected = np.array([r["detected"] for r in rows])
    recovered = np.array([r["recovered"] for r in rows])
    bins = np.array([0, 4, 6, 8, 10, 12, 15, 20, 30, 50, 1e9])
    det, rec = inj.recall_curve(mes, detected, bins), inj.recall_curve(mes, recovered, bins)
    sim = np.array([r["light_curve"].startswith("simulated") for r in rows])
    sim_det = inj.recall_curve(mes[sim], detected[sim], bins)
    sim_rec = inj.recall_curve(mes[sim], recovered[sim], bins)
    lines = [
        "# Injection-recovery: search + CNN on planted transits",
        "",
        "Made by `python docs/ml/injection_recovery.py` "
        f"({len(rows)} injections, {result['seconds'] / 60:.1f} min). Chain: `search_transits` (spline + BLS, "
        "apps.lightcurves.science) -> `tce_views` yu2019 preset -> shipped triage CNN, raw score >= 0.5. "
        "Noise: Boyajian's star Q13+Q15 and the DR24-masked eclipsing binary KIC 2306740 (real Kepler), "
        "and simulated 90-day Kepler-like quarters. MES = mean in-transit depth x sqrt(transits) / noise "
        "on the transit duration. Kepler pipeline: Christiansen et al. 2015 Gamma CDF (a 4.35, b 1.05, "
        "MES - 4.1).",
        "",
        "| MES bin | injections | detected (search) | detected + CNN >= 0.5 | simulated noise only: n / detected / + CNN | Kepler pipeline detection |",
        "|---|---|---|---|---|---|",
    ]
    for i in range(len(bins) - 1):
        hi = "∞" if bins[i + 1] > 1e8 else f"{bins[i + 1]:g}"
        centre = min(bins[i + 1], 60.0) if bins[i + 1] > 1e8 else 0.5 * (bins[i] + bins[i + 1])
        fmt = lambda x: "–" if not np.isfinite(x) else f"{x:.2f}"  # noqa: E731
        lines.append(
            f"| {bins[i]:g}–{hi} | {det['count'][i]} | {fmt(det['recall'][i])} | {fmt(rec['recall'][i])} | "
            f"{sim_det['count'][i]} / {fmt(sim_det['recall'][i])} / {fmt(sim_rec['recall'][i])} | "
            f"{inj.christiansen_efficiency(np.array([centre]))[0]:.2f} |"
        )
    by_curve = {}
    for r in rows:
        by_curve.setdefault(r["light_curve"], []).append(r)
    lines += [
        "",
        "| light curve | injections | detected | recovered (search + CNN) | median MES |",
        "|---|---|---|---|---|",
    ]
    for name, items in by_curve.items():
        lines.append(
            f"| {name} | {len(items)} | {sum(i['detected'] for i in items)} | {sum(i['recovered'] for i in items)} | "
            f"{np.median([i['mes'] for i in items]):.1f} |"
        )
    lines += [
        "",
        "False positives with nothing planted (threshold 0.5):",
        "",
        "| variant | light curves | detections (search) | scored >= 0.5 | per light curve |",
        "|---|---|---|---|---|",
    ]
    for variant, v in result["false_positives"].items():
        lines.append(
            f"| {variant} | {v['light_curves']} | {v['detections']} | {v['false_positives']} | "
            f"{v['false_positives_per_light_curve']:.2f} |"
        )
    lines += [
        "",
        "Reading: on simulated noise the search finds nearly every signal above MES 15 and the CNN passes",
        "most of them, while signals at MES 15-25 often score below 0.5 (the model was trained on TESS QLP",
        "views, these are Kepler-cadence views from our pipeline). On the two real stars the search locks",
        "onto stellar variability first (Boyajian's star: its 0.88-d rotation; KIC 2306740: residual",
        "spots/systematics at 0.73 d), masks it, and rarely reaches the planted transit: 0/60 and 1/25.",
        "Those variability detections cannot be turned into views (the spline cannot be fitted once their",
        "many events are masked) and count as rejected. No false positives passed the CNN at 0.5 in the",
        "null, inverted and scrambled runs. Small samples: treat each bin as +-0.1 to 0.3.",
        "",
        "Raw rows: `docs/ml/injection_recovery.json`.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--render-only", action="store_true", help="re-render the .md from the .json"
    )
    args = parser.parse_args()
    here = REPO / "docs" / "ml"
    here.mkdir(parents=True, exist_ok=True)
    if args.render_only:
        result = json.loads((here / "injection_recovery.json").read_text())
    else:
        result = run(args.quick)
        # The model card shows this curve only for the exact weights it was measured with.
        result["model"] = {"name": MODEL.manifest.name, "weights_sha256": MODEL.manifest.weights_sha256}
        (here / "injection_recovery.json").write_text(json.dumps(result, indent=1))
    text = render(result)
    (here / "injection_recovery.md").write_text(text)
    (REPO / "docs" / "bench" / "injection.md").write_text(text.replace("# Injection-recovery", "## Injection-recovery", 1))
    print(text)


if __name__ == "__main__":
    main()
