"""A labelled Kepler-cadence view set built by our own pipeline: injections to train, DR24 TCEs to test.

Only a handful of Kepler stars have light curves in the demo data, so real catalogue-labelled TCEs
are few. Training therefore rests on injections, each turned into views by the same
``tce_views`` that serves real TCEs:

* ``INJ_PC`` (label 1): a batman transit (`injection.draw_planet`, varied stellar density).
* ``INJ_EB`` (label 0): an eclipsing binary at the period a search would report — unequal odd/even
  depths and/or a secondary eclipse, often V-shaped (`injection.planted_eclipsing_binary`).
* ``INJ_NULL`` (label 0): a TCE at a random ephemeris on noise alone (the NTP class).
* ``INJ_INV`` (label 0): a planted transit in the flipped light curve (the DR25 INV test).

Planted signals are scaled to an expected MES drawn log-uniformly from ``mes_range`` (planets) or
``eb_mes_range`` (EBs), both starting at Kepler's 7.1: below it a TCE would not exist, and a
log-uniform draw keeps many signals near the threshold, where vetting is hard. The TCE ephemeris
handed to ``tce_views`` carries small epoch and duration errors, as a search's would. Noise is real (Kepler PDCSAP with the DR24 events masked,
TESS 2-min binned to 30 min with the hot Jupiters masked) or simulated (white + AR(1) red noise +
rotation + gaps). For the split by star, every injection into a real star carries that star's
KIC/TIC; each simulated light curve is its own star (ids from ``SIMULATED_STAR_BASE``).

The DR24 set holds every TCE of a local Kepler light curve whose ``av_training_set`` is PC (1),
AFP or NTP (0). Stars with such TCEs are left out of the injection noise by default, so the
DR24 test shares no star with training.

Views of injected examples have zero centroid views (no pixel data): do not train centroid branches
on this set.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from time import process_time

import numpy as np

from apps.lightcurves.science.errors import LightCurveError
from apps.lightcurves.science.io import LightCurve, read_fits
from apps.lightcurves.science.pipeline import Ephemeris, TceViews, flatten_lightcurves, tce_views
from apps.lightcurves.science.views import VIEW_NAMES

from . import injection as inj
from .datasets import KEPLER_LABELS
from .errors import InjectionError
from .noise import (
    DR24_TCE_TABLE,
    invert_light_curve,
    kepler_noise_light_curves,
    simulated_light_curve,
    tess_noise_light_curves,
)

ProgressFn = Callable[[int, int, str], None]

KINDS = ("planet", "eb", "null", "inverted")
DISPOSITIONS = {"planet": "INJ_PC", "eb": "INJ_EB", "null": "INJ_NULL", "inverted": "INJ_INV"}
LABELS = {"planet": 1, "eb": 0, "null": 0, "inverted": 0}
SIMULATED_STAR_BASE = 10**12  # above every KIC and TIC number
MIN_CADENCES = 200  # a noise stretch shorter than this (about 4 days) is drawn again
@dataclass(frozen=True, eq=False)
class NoiseSource:
    """A planet-free light curve to inject into: normalised flux (about 1), days."""

    name: str
    star_id: int
    mission: str  # "Kepler", "TESS" or "simulated"
    time: np.ndarray
    flux: np.ndarray


@dataclass
class InjectionConfig:
    """How injections are drawn (recorded in the view set's manifest)."""

    kind_fractions: tuple[float, float, float, float] = (0.5, 0.3, 0.1, 0.1)  # order of KINDS
    real_fraction: float = 0.3
    window_days: tuple[float, float] = (60.0, 400.0)
    period_range: tuple[float, float] = (0.5, 50.0)
    rp_rs_range: tuple[float, float] = (0.005, 0.25)
    density_range: tuple[float, float] = (0.3, 3.0)  # g/cm^3, log-uniform
    # Expected MES of planted planets (and inverted ones) and of EBs, drawn log-uniformly; the
    # lower end is Kepler's 7.1-sigma threshold: below it a TCE would not exist.
    mes_range: tuple[float, float] = (7.1, 500.0)
    eb_mes_range: tuple[float, float] = (7.1, 5000.0)
    duration_jitter: float = 0.15  # log-normal sigma of the TCE duration's error
    epoch_jitter: float = 0.1  # sigma of the TCE epoch's error, in durations
    max_attempts: int = 40

    def validate(self) -> InjectionConfig:
        fractions = np.asarray(self.kind_fractions, dtype=float)
        if fractions.shape != (len(KINDS),) or fractions.min() < 0 or fractions.sum() <= 0:
            raise InjectionError(f"kind_fractions needs {len(KINDS)} non-negative weights")
        if not 0 <= self.real_fraction <= 1:
            raise InjectionError("real_fraction must be in [0, 1]")
        for name in ("period_range", "rp_rs_range", "mes_range", "eb_mes_range"):
            low, high = getattr(self, name)
            if not 0 < low <= high:
                raise InjectionError(f"{name} must be positive and increasing, got {(low, high)}")
        return self


@dataclass
class ViewExample:
    """One labelled TCE as written to ``<tce_id>.npz`` (layout of `datasets.load_view_dir`)."""

    tce_id: str
    star_id: int
    label: int
    disposition: str
    views: dict[str, np.ndarray]
    meta: dict[str, float | str] = field(default_factory=dict)

    def arrays(self) -> dict[str, np.ndarray]:
        """Everything to save: views (float32), label, star_id, tce_id, disposition, meta."""
        out = {k: np.asarray(v, dtype=np.float32) for k, v in self.views.items()}
        out.update(
            label=np.array(self.label),
            star_id=np.array(self.star_id, dtype=np.int64),
            tce_id=np.array(self.tce_id),
            disposition=np.array(self.disposition),
        )
        out.update({k: np.array(v) for k, v in self.meta.items()})
        return out


def light_curve_of(time: np.ndarray, flux: np.ndarray, *, star_id: int) -> LightCurve:
    """A clean LightCurve from bare (time, flux): no quality flags, no centroids."""
    n = time.size
    missing = np.full(n, np.nan)
    return LightCurve(
        time=np.asarray(time, dtype=np.float64),
        flux=np.asarray(flux, dtype=np.float64),
        flux_err=missing,
        sap_flux=missing,
        sap_flux_err=missing,
        centroid_col=missing,
        centroid_row=missing,
        quality=np.zeros(n, dtype=np.int64),
        target_id=int(star_id),
    )


def _log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


def real_noise_sources(demo_data: str | Path, *, exclude: Sequence[int] = ()) -> list[NoiseSource]:
    """Real Kepler and TESS noise of the demo data (see `injection`), minus the ``exclude`` stars."""
    curves = [("Kepler", c) for c in kepler_noise_light_curves(demo_data)]
    curves += [("TESS", c) for c in tess_noise_light_curves(demo_data)]
    out = []
    for mission, (name, time, flux) in curves:
        star = int(name.split()[1])
        if star not in set(exclude):
            out.append(NoiseSource(name, star, mission, time, flux))
    return out


def simulated_source(rng: np.random.Generator, index: int, config: InjectionConfig) -> NoiseSource:
    """A simulated Kepler-cadence light curve with random noise levels; its own star id."""
    white = _log_uniform(rng, 20.0, 2000.0)
    time, flux = simulated_light_curve(
        days=float(rng.uniform(*config.window_days)),
        white_ppm=white,
        red_ppm=white * float(rng.uniform(0.0, 0.7)),
        red_hours=float(rng.uniform(1.0, 24.0)),
        variability_ppm=_log_uniform(rng, 10.0, 5000.0),
        variability_period_days=float(rng.uniform(0.5, 40.0)),
        gap_fraction=float(rng.uniform(0.0, 0.15)),
        rng=rng,
    )
    return NoiseSource(f"simulated {index}", SIMULATED_STAR_BASE + index, "simulated", time, flux)


def _window(source: NoiseSource, rng: np.random.Generator, days: float) -> NoiseSource:
    """A random stretch of ``days`` of a real light curve (all of it when shorter).

    The stretch starts at a cadence (not at a random time, which could fall in a long gap and
    leave nothing); a stretch of fewer than ``MIN_CADENCES`` raises InjectionError.
    """
    t = source.time
    if t[-1] - t[0] <= days:
        return source
    starts = t[t <= t[-1] - days]
    start = float(starts[int(rng.integers(starts.size))])
    keep = (t >= start) & (t < start + days)
    if keep.sum() < MIN_CADENCES:
        raise InjectionError(f"a {days:.0f}-day stretch of {source.name} has too few cadences")
    return NoiseSource(source.name, source.star_id, source.mission, t[keep], source.flux[keep])


def _orbit(time, rng, config: InjectionConfig, radius_ratio: float) -> dict:
    """Period, epoch (at least 3 events in ``time``), a/R* from a random stellar density."""
    drawn = inj.draw_planet(time, rng, period_range=config.period_range, rp_rs_range=(0.01, 0.02))
    period = drawn["period"]
    a_rs = max(inj.a_over_rs(period, _log_uniform(rng, *config.density_range)), 2.0 + radius_ratio)
    return {"period": period, "epoch": drawn["epoch"], "a_rs": a_rs, "drawn": drawn}


def _planet(time, noise, rng, config: InjectionConfig, target_mes: float):
    """A limb-darkened transit whose radius ratio is scaled to reach ``target_mes`` in ``noise``.

    MES grows about as rp_rs^2, so two rescaling steps land close to the target; rp_rs stays
    inside ``config.rp_rs_range``. Returns (model (n,), true parameters).
    """
    low, high = config.rp_rs_range
    rp_rs = _log_uniform(rng, low, high)
    orbit = _orbit(time, rng, config, rp_rs)
    impact, limb = orbit["drawn"]["impact"], orbit["drawn"]["limb_darkening"]

    def build(rp: float) -> tuple[np.ndarray, float]:
        model = inj.planted_transit(
            time,
            period=orbit["period"],
            epoch=orbit["epoch"],
            rp_rs=rp,
            impact=impact,
            a_rs=orbit["a_rs"],
            limb_darkening=limb,
        )
        return model, inj.transit_duration_hours(orbit["period"], orbit["a_rs"], rp, impact)

    model, hours = build(rp_rs)
    for _ in range(2):
        mes = inj.expected_mes(time, noise, model, hours)
        if mes <= 0:
            break
        rp_rs = float(np.clip(rp_rs * np.sqrt(target_mes / mes), low, high))
        model, hours = build(rp_rs)
    params = {"rp_rs": rp_rs, "impact": impact, "a_rs": orbit["a_rs"]}
    return model, {
        "period": orbit["period"],
        "epoch": orbit["epoch"],
        "duration_hours": hours,
        **params,
    }


def _eb_depths(rng) -> tuple[float, float, float]:
    """(odd, even, secondary) depths: unequal odd/even, a secondary eclipse, or both."""
    odd = _log_uniform(rng, 0.001, 0.5)
    unequal, secondary = rng.random(2) < 0.6
    if not (unequal or secondary):
        unequal, secondary = (True, False) if rng.random() < 0.5 else (False, True)
    even = odd * float(rng.uniform(0.1, 0.8)) if unequal else odd
    if unequal and rng.random() < 0.5:
        odd, even = even, odd
    second = max(odd, even) * float(rng.uniform(0.02, 0.6)) if secondary else 0.0
    return odd, even, second


def _eclipsing_binary(time, noise, rng, config: InjectionConfig, target_mes: float):
    """An EB at the period a search would report, its depths scaled to reach ``target_mes``.

    Eclipse shapes are depth-normalised, so MES is linear in the depths: one rescaling (keeping
    the odd/even/secondary ratios, deepest eclipse at most 0.9) hits the target.
    """
    ratio = float(rng.uniform(0.2, 1.0))
    orbit = _orbit(time, rng, config, ratio)
    impact = float(rng.uniform(0.0, 1.0 + 0.8 * ratio))  # > 1: grazing, V-shaped
    hours = inj.transit_duration_hours(orbit["period"], orbit["a_rs"], ratio, impact)

    def build(depths: tuple[float, float, float]) -> np.ndarray:
        return inj.planted_eclipsing_binary(
            time,
            period=orbit["period"],
            epoch=orbit["epoch"],
            odd_depth=depths[0],
            even_depth=depths[1],
            secondary_depth=depths[2],
            radius_ratio=ratio,
            impact=impact,
            a_rs=orbit["a_rs"],
        )

    depths = _eb_depths(rng)
    model = build(depths)
    mes = inj.expected_mes(time, noise, model, hours)
    if mes > 0:
        factor = min(target_mes / mes, 0.9 / max(depths))
        depths = tuple(d * factor for d in depths)
        model = build(depths)
    params = {"rp_rs": ratio, "impact": impact, "a_rs": orbit["a_rs"]}
    params.update(odd_depth=depths[0], even_depth=depths[1], secondary_depth=depths[2])
    return model, {
        "period": orbit["period"],
        "epoch": orbit["epoch"],
        "duration_hours": hours,
        **params,
    }


def _signal(kind: str, source: NoiseSource, rng, config: InjectionConfig):
    """(flux with the signal, true parameters incl. depth and mes) or None when too weak."""
    time, noise = source.time, source.flux
    if kind == "null":  # only the ephemeris is used: nothing is planted
        _, params = _planet(time, noise, rng, config, config.mes_range[0])
        return noise, {**params, "rp_rs": 0.0, "depth": 0.0, "mes": 0.0}
    if kind == "eb":
        target = _log_uniform(rng, *config.eb_mes_range)
        model, params = _eclipsing_binary(time, noise, rng, config, target)
    else:
        target = _log_uniform(rng, *config.mes_range)
        model, params = _planet(time, noise, rng, config, target)
    mes = inj.expected_mes(time, noise, model, params["duration_hours"])
    if not mes >= config.mes_range[0]:
        return None
    flux = noise * model
    if kind == "inverted":
        flux = invert_light_curve(flux)
    return flux, {**params, "depth": float(1.0 - model.min()), "mes": mes, "target_mes": target}


def _finite_views(result: TceViews) -> dict[str, np.ndarray] | None:
    views = {k: np.asarray(result.views[k], dtype=np.float64) for k in VIEW_NAMES}
    return views if all(np.isfinite(v).all() for v in views.values()) else None


def _scalars(result: TceViews) -> dict[str, float]:
    """The 0-d numeric diagnostics of ``tce_views`` (per-transit arrays and strings are dropped)."""
    return {
        k: float(v)
        for k, v in result.diagnostics.items()
        if isinstance(v, int | float | np.integer | np.floating)
    }


def injection_example(
    index: int,
    *,
    seed: int,
    sources: Sequence[NoiseSource],
    preset: str,
    config: InjectionConfig,
) -> ViewExample:
    """Example ``index`` of the injection set; reproducible from (seed, index) alone.

    Raises
    ------
    InjectionError
        No usable example after ``config.max_attempts`` draws (signal too weak, views failed).
    """
    rng = np.random.default_rng([seed, index])
    weights = np.asarray(config.kind_fractions, dtype=float)
    kind = KINDS[int(rng.choice(len(KINDS), p=weights / weights.sum()))]
    for _ in range(config.max_attempts):
        try:
            if sources and rng.random() < config.real_fraction:
                source = sources[int(rng.integers(len(sources)))]
                source = _window(source, rng, float(rng.uniform(*config.window_days)))
            else:
                source = simulated_source(rng, index, config)
            drawn = _signal(kind, source, rng, config)
        except InjectionError:
            continue  # e.g. a light curve too short for 3 transits at the shortest period
        if drawn is None:
            continue
        flux, params = drawn
        hours = params["duration_hours"] * float(np.exp(rng.normal(0, config.duration_jitter)))
        epoch = params["epoch"] + float(rng.normal(0, config.epoch_jitter)) * hours / 24.0
        curve = light_curve_of(source.time, flux, star_id=source.star_id)
        try:
            result = tce_views([curve], params["period"], epoch, hours, preset=preset)
        except LightCurveError:
            continue
        views = _finite_views(result)
        if views is None:
            continue
        meta = {f"true_{k}": float(v) for k, v in params.items()}
        meta.update(
            _scalars(result),
            period=params["period"],
            epoch=epoch,
            duration_hours=hours,
            noise=source.name,
            mission=source.mission,
            kind=kind,
            preset=preset,
        )
        return ViewExample(
            f"inj-{index:05d}", source.star_id, LABELS[kind], DISPOSITIONS[kind], views, meta
        )
    raise InjectionError(f"injection {index}: no usable {kind} after {config.max_attempts} draws")


def injection_examples(
    n: int,
    *,
    seed: int,
    sources: Sequence[NoiseSource],
    preset: str = "gaia",
    config: InjectionConfig | None = None,
    on_progress: ProgressFn | None = None,
) -> Iterator[ViewExample]:
    """Yield ``n`` injection examples (see `injection_example`) with progress."""
    config = (config or InjectionConfig()).validate()
    for index in range(n):
        yield injection_example(index, seed=seed, sources=sources, preset=preset, config=config)
        if on_progress is not None:
            on_progress(index + 1, n, "injections")


# --- real DR24-labelled TCEs -------------------------------------------------------------------

_KEPLER_FILE = re.compile(r"kplr(\d{9})-\d+_(llc|slc)\.fits$")


def local_kepler_files(demo_data: str | Path) -> dict[int, list[Path]]:
    """KIC -> its light-curve files under ``demo_data/kepler`` (long cadence when it has any)."""
    found: dict[int, dict[str, list[Path]]] = {}
    for path in sorted((Path(demo_data) / "kepler").glob("kplr*.fits")):
        match = _KEPLER_FILE.search(path.name)
        if match:
            kinds = found.setdefault(int(match.group(1)), {})
            kinds.setdefault(match.group(2), []).append(path)
    return {kic: kinds.get("llc") or kinds["slc"] for kic, kinds in found.items()}


def dr24_rows(demo_data: str | Path, kepids: Sequence[int]) -> list[dict]:
    """DR24 TCE rows (every label, UNK included) of ``kepids``: kepid, planet, ephemeris, label."""
    wanted, rows = set(kepids), []
    path = Path(demo_data) / DR24_TCE_TABLE
    if not path.is_file():
        raise InjectionError(f"DR24 TCE table {path} is missing")
    with path.open() as handle:
        for row in csv.DictReader(line for line in handle if not line.startswith("#")):
            if int(row["kepid"]) in wanted:
                rows.append(
                    {
                        "kepid": int(row["kepid"]),
                        "planet": int(row["tce_plnt_num"]),
                        "period": float(row["tce_period"]),
                        "epoch": float(row["tce_time0bk"]),
                        "duration_hours": float(row["tce_duration"]),
                        "av_training_set": row["av_training_set"].strip(),
                    }
                )
    return sorted(rows, key=lambda r: (r["kepid"], r["planet"]))


def labelled(row: dict) -> bool:
    """A DR24 row whose label the training set uses (PC, AFP, NTP; not UNK)."""
    return row["av_training_set"] in ("PC", "AFP", "NTP")


def dr24_examples(
    demo_data: str | Path, *, preset: str = "gaia"
) -> tuple[list[ViewExample], list[dict]]:
    """Views of every labelled DR24 TCE with a local light curve, and the TCEs that failed (why).

    The star's other DR24 TCEs (any label) are kept out of the fit and removed before folding.
    """
    files = local_kepler_files(demo_data)
    rows = dr24_rows(demo_data, list(files))
    examples, skipped = [], []
    for kic, paths in files.items():
        mine = [r for r in rows if r["kepid"] == kic]
        if not any(labelled(r) for r in mine):
            continue
        curves = [read_fits(p) for p in paths]
        ephemerides = [Ephemeris(r["period"], r["epoch"], r["duration_hours"]) for r in mine]
        flat = flatten_lightcurves(curves, preset=preset, tces=ephemerides)
        for row, own in zip(mine, ephemerides, strict=True):
            tce_id = f"{kic}-{row['planet']:02d}"
            if not labelled(row):
                continue
            others = [e for e in ephemerides if e is not own]
            try:
                result = tce_views(
                    curves, own.period, own.epoch, own.duration_hours, preset=preset,
                    other_tces=others, flat=flat,
                )  # fmt: skip
            except LightCurveError as exc:
                skipped.append({"tce_id": tce_id, "reason": str(exc)})
                continue
            views = _finite_views(result)
            if views is None:
                skipped.append({"tce_id": tce_id, "reason": "non-finite views"})
                continue
            meta = {
                **_scalars(result),
                "period": own.period,
                "epoch": own.epoch,
                "duration_hours": own.duration_hours,
                "mission": "Kepler",
                "cadence": "short" if paths[0].name.endswith("_slc.fits") else "long",
                "preset": preset,
            }
            label = KEPLER_LABELS[row["av_training_set"]]
            examples.append(ViewExample(tce_id, kic, label, row["av_training_set"], views, meta))
    return examples, skipped


def dr24_labelled_stars(demo_data: str | Path) -> list[int]:
    """KICs with a local light curve and at least one PC/AFP/NTP DR24 TCE."""
    files = local_kepler_files(demo_data)
    return sorted({r["kepid"] for r in dr24_rows(demo_data, list(files)) if labelled(r)})


def write_example(example: ViewExample, directory: Path, prefix: str) -> Path:
    """Save one example as ``directory/<prefix>-<tce_id or index>.npz``; returns the path."""
    name = example.tce_id if example.tce_id.startswith(prefix) else f"{prefix}-{example.tce_id}"
    path = directory / f"{name}.npz"
    with path.open("wb") as handle:
        np.savez(handle, **example.arrays())
    return path


def _prepare_dir(directory: Path, overwrite: bool) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    old = sorted(directory.glob("*.npz"))
    if old and not overwrite:
        raise InjectionError(
            f"{directory} already holds {len(old)} .npz files; choose an empty folder or allow overwriting (--overwrite)"
        )
    for path in old:
        path.unlink()


def _counts(values: Sequence[str]) -> dict[str, int]:
    keys, counts = np.unique(np.asarray(values, dtype=str), return_counts=True)
    return {str(k): int(c) for k, c in zip(keys, counts, strict=True)}


def build_training_views(
    demo_data: str | Path,
    out_dir: str | Path,
    *,
    n_injections: int,
    preset: str = "gaia",
    seed: int = 0,
    config: InjectionConfig | None = None,
    dr24_star_noise: bool = False,
    overwrite: bool = False,
    on_progress: ProgressFn | None = None,
) -> dict:
    """Write ``out_dir/injections/*.npz`` (train/validation/test, split by star later),
    ``out_dir/dr24/*.npz`` (the real labelled test set) and ``out_dir/manifest.json``.

    With ``dr24_star_noise`` False (default) the stars of the DR24 set are not used as injection
    noise, so the DR24 test shares no star with training. Returns the manifest as a dict.

    Raises
    ------
    InjectionError
        Missing demo data, a non-empty output folder (without ``overwrite``), bad parameters.
    """
    if n_injections < 0:
        raise InjectionError("the number of injections must be >= 0")
    config = (config or InjectionConfig()).validate()
    root, out = Path(demo_data), Path(out_dir)
    if not (root / "kepler").is_dir():
        raise InjectionError(f"{root} has no kepler/ folder: point --demo-data at the shared data")
    started = process_time()
    held_out = [] if dr24_star_noise else dr24_labelled_stars(root)
    sources = real_noise_sources(root, exclude=held_out) if config.real_fraction > 0 else []
    folders = {"injections": out / "injections", "dr24": out / "dr24"}
    for folder in folders.values():
        _prepare_dir(folder, overwrite)
    real, skipped = dr24_examples(root, preset=preset)
    for example in real:
        write_example(example, folders["dr24"], "dr24")
    injected = []
    for example in injection_examples(
        n_injections, seed=seed, sources=sources, preset=preset, config=config,
        on_progress=on_progress,
    ):  # fmt: skip
        write_example(example, folders["injections"], "inj")
        injected.append((example.disposition, str(example.meta["mission"]), example.star_id))
    manifest = {
        "preset": preset,
        "seed": seed,
        "demo_data": str(root),
        "config": {k: list(v) if isinstance(v, tuple) else v for k, v in vars(config).items()},
        "dr24_star_noise": dr24_star_noise,
        "noise_stars": [s.name for s in sources],
        "held_out_stars": held_out,
        "injections": {
            "n": len(injected),
            "dispositions": _counts([d for d, _, _ in injected]),
            "noise": _counts([m for _, m, _ in injected]),
            "stars": len({s for _, _, s in injected}),
        },
        "dr24": {
            "n": len(real),
            "dispositions": _counts([e.disposition for e in real]),
            "tces": [e.tce_id for e in real],
            "skipped": skipped,
        },
        "cpu_seconds": round(process_time() - started, 1),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest
