"""Processing services: flatten a target, build every TCE's views, search for new transits.

They read the target's Parquet series, call the framework-free science code and store the results
as versioned artifacts (NPZ views, Parquet flattened series) with provenance.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd
from django.db.models import Max, Min

from apps.catalog.models import TCE, TIME_SYSTEM, LightCurve, Target, TCESource, clock_shift
from apps.catalog.selectors import same_star_targets
from apps.catalog.services import tces_record
from apps.core.bounds import params_validate
from apps.core.errors import InvalidInput
from apps.core.storage import product_local_path
from apps.jobs.models import Artifact, Job
from apps.jobs.runner import code_version
from apps.lightcurves.params import DEFAULT_PRESETS, MAX_OFIR_PERIODS, ProcessParams, SearchParams
from apps.lightcurves.products import flattened_store, json_ready, views_store
from apps.lightcurves.science import pipeline
from apps.lightcurves.science.errors import LightCurveError
from apps.lightcurves.science.grid import ofir_count, stellar_density
from apps.lightcurves.science.io import LightCurve as ScienceLightCurve
from apps.lightcurves.science.io import from_dataframe
from apps.lightcurves.science.search_run import SearchOptions

SEARCH_SOURCE = TCESource.SEARCH


def target_lightcurves(*, target: Target) -> tuple[list[ScienceLightCurve], dict[str, str]]:
    """The target's ingested series as science light curves, plus their source checksums."""
    rows = list(LightCurve.objects.filter(target=target).order_by("quarter_or_sector", "source_filename"))
    if not rows:
        raise InvalidInput(f"{target.display_id} has no light curves: download or ingest them first")
    curves, inputs = [], {}
    mission = {"tess": "TESS", "k2": "K2"}.get(target.mission, "Kepler")  # K2 has its own quality bits
    for row in rows:
        with product_local_path(row.parquet_path) as path:
            frame = pd.read_parquet(path)
        curves.append(
            from_dataframe(frame, mission=mission, target_id=int(target.identifier), segment=row.quarter_or_sector)
        )
        inputs[row.source_filename] = row.source_sha256
    return curves, inputs


def _ephemerides(tces: Sequence[TCE]) -> list[pipeline.Ephemeris]:
    return [pipeline.Ephemeris(t.period_days, t.epoch, t.duration_hours) for t in tces]


def same_signal(a: TCE, b: TCE) -> bool:
    """Whether two TCEs describe the same transits (e.g. one planet in DR24 and DR25).

    Periods agree within 0.1 % and the epochs fall within half the longer duration of each other,
    once wrapped by the period. Such a TCE must not be "removed" as another signal: that would
    delete the transits being folded.
    """
    if abs(a.period_days - b.period_days) > 1e-3 * a.period_days:
        return False
    offset = (a.epoch - b.epoch) % a.period_days
    offset = min(offset, a.period_days - offset)
    return offset * 24.0 < 0.5 * max(a.duration_hours, b.duration_hours)


def _distinct_signals(tces: Sequence[TCE]) -> list[TCE]:
    distinct: list[TCE] = []
    for tce in tces:
        if not any(same_signal(tce, kept) for kept in distinct):
            distinct.append(tce)
    return distinct


def _store_flattened(target: Target, preset: str, flat: pipeline.FlatSeries, job: Job | None, provenance: dict) -> Artifact:
    columns = {
        "time": flat.time,
        "flux": flat.flux,
        "raw": flat.raw,
        "trend": flat.trend,
        "centroid_col": flat.centroid_col,
        "centroid_row": flat.centroid_row,
    }
    meta = {"bkspace": json_ready(flat.bkspace), "n_points": int(flat.time.size)}
    return flattened_store(target=target, preset=preset, columns=columns, meta=meta, job=job, provenance=provenance)


def target_process(
    *,
    target: Target,
    presets: Sequence[str] = DEFAULT_PRESETS,
    job: Job | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    check_cancelled: Callable[[], None] | None = None,
) -> dict:
    """Flatten the target once per preset and build views + diagnostics for each of its TCEs.

    Each product is a new artifact version; a TCE whose views cannot be built (e.g. its period is
    longer than the data) is reported with the reason and the others go on.
    """
    # the job's own rule (ProcessParams), for callers that did not come through the job
    presets = params_validate(ProcessParams, {"target_id": target.pk, "presets": list(presets)}, what="process_target").presets
    curves, inputs = target_lightcurves(target=target)
    tces = [t for t in TCE.objects.filter(target=target).order_by("source", "tce_number") if t.epoch_system == target.time_system]
    # The same planet appears in several catalogues: mask each distinct signal once.
    distinct = _distinct_signals(tces)
    total = len(presets) * (1 + len(tces))
    done = 0
    report: dict = {"presets": list(presets), "tces": {}, "failed": {}, "inputs": len(inputs), "tce_ids": []}
    for preset in presets:
        provenance = {"code_version": code_version(), "preset": preset, "inputs": inputs}
        try:
            flat = pipeline.flatten_lightcurves(curves, preset=preset, tces=_ephemerides(distinct))
        except LightCurveError as exc:
            raise InvalidInput(f"cannot flatten {target.display_id} ({preset}): {exc}") from exc
        _store_flattened(target, preset, flat, job, provenance)
        done += 1
        if on_progress:
            on_progress(done, total)
        for tce in tces:
            if check_cancelled:
                check_cancelled()
            others = _ephemerides([t for t in distinct if not same_signal(t, tce)])
            try:
                result = pipeline.tce_views(
                    curves, tce.period_days, tce.epoch, tce.duration_hours, preset=preset, other_tces=others, flat=flat
                )
            except LightCurveError as exc:
                report["failed"][f"{tce.label} {tce.source} ({preset})"] = str(exc)
            else:
                artifact = views_store(tce=tce, preset=preset, result=result, job=job, provenance={**provenance, "tce": tce.pk})
                report["tces"].setdefault(tce.label, {})[preset] = artifact.version
                if tce.pk not in report["tce_ids"]:
                    report["tce_ids"].append(tce.pk)  # the job page links them
            done += 1
            if on_progress:
                on_progress(done, total)
    return report


def _next_tce_number(target: Target) -> int:
    numbers = TCE.objects.filter(target=target, source=SEARCH_SOURCE).values_list("tce_number", flat=True)
    return max(numbers, default=0) + 1


def target_density(target: Target) -> float | None:
    """The target's mean stellar density (solar units) from its mass/radius or logg/radius."""
    return stellar_density(logg=target.logg, radius=target.radius, mass=target.mass)


def target_search(
    *,
    target: Target,
    job: Job | None = None,
    preset: str = "gaia",
    period_min: float = 0.5,
    period_max: float | None = None,
    n_periods: int | None = None,
    max_signals: int = 3,
    min_sde: float | None = None,
    min_snr: float | None = None,
    same_star: bool = False,
) -> list[TCE]:
    """Run the transit search (``preset``) and record each found signal as a TCE (source "search").

    Trial durations follow the target's stellar density when it has one. The release names the
    run (``job<id>``), so a redelivered job updates its own rows and a new search adds a new
    release instead of overwriting an earlier one. With ``same_star`` the same star's light
    curves from the other missions (``same_star_targets``) are searched with this target's, on
    one clock (TESS's when any is TESS), which pins a period over the joint baseline; epochs are
    recorded on this target's clock.
    """
    curves, _inputs = target_lightcurves(target=target)
    others = [o for o in same_star_targets(target=target) if o.lightcurves.exists()] if same_star else []
    for other in others:
        curves += target_lightcurves(target=other)[0]
    # the search runs on the clock the science puts the joint curves on (TESS's when any is TESS)
    joint = pipeline.on_one_clock(curves)[0].mission.lower()
    shift = clock_shift(TIME_SYSTEM.get(joint, target.time_system), target.time_system) if others else 0.0
    try:
        options = SearchOptions(
            preset=preset, density=target_density(target), period_min=period_min,
            period_max=period_max, n_periods=n_periods, max_signals=max_signals,
            min_sde=min_sde, min_snr=min_snr,
        )
        signals = pipeline.search_transits(curves, options)
    except LightCurveError as exc:
        raise InvalidInput(f"search on {target.display_id} failed: {exc}") from exc
    release = f"job{job.pk}" if job else f"manual{_next_tce_number(target)}"
    fields = [
        {
            "mission": target.mission,
            "period_days": signal.period,
            "epoch": signal.epoch + shift,
            "epoch_system": target.time_system,
            "duration_hours": signal.duration_hours,
            "depth_ppm": signal.depth_ppm,
            "snr": signal.snr,
            "disposition": "UNK",
            "extra": {
                **json_ready(signal.to_dict()), "epoch": signal.epoch + shift, "code_version": code_version(),
                "same_star": [o.display_id for o in others],
            },
        }
        for signal in signals
    ]
    return tces_record(target=target, source=SEARCH_SOURCE, release=release, signals=fields)


def _search_span(target: Target, same_star: bool) -> dict:
    """First and last time of what a search covers, on the target's clock (with ``same_star``,
    the same star's other missions' light curves too)."""
    span = LightCurve.objects.filter(target=target).aggregate(start=Min("time_start"), end=Max("time_end"))
    for other in same_star_targets(target=target) if same_star else []:
        theirs = LightCurve.objects.filter(target=other).aggregate(start=Min("time_start"), end=Max("time_end"))
        if theirs["start"] is None or span["start"] is None:
            continue
        shift = clock_shift(other.time_system, target.time_system)
        span = {"start": min(span["start"], theirs["start"] + shift), "end": max(span["end"], theirs["end"] + shift)}
    return span


def search_params_validate(params: dict) -> dict:
    """Check a search request's grid (``SearchParams``) and its period range against the data span."""
    clean = params_validate(SearchParams, params, what="search_target")
    if not Target.objects.filter(pk=clean.target_id).exists():
        raise InvalidInput(f"target {clean.target_id} does not exist")
    span = _search_span(Target.objects.get(pk=clean.target_id), clean.same_star)
    if span["start"] is None:
        raise InvalidInput(f"target {clean.target_id} has no light curves to search: fetch them first")
    days = float(span["end"] - span["start"])
    longest = clean.period_max if clean.period_max is not None else days / 2
    if clean.n_periods is None and 0 < clean.period_min < longest <= days:
        target = Target.objects.get(pk=clean.target_id)
        count = ofir_count(clean.period_min, longest, days, target_density(target) or 1.0)
        if count > MAX_OFIR_PERIODS:
            raise InvalidInput(
                f"the Ofir grid over {days:.4g} d would hold {count} periods; at most {MAX_OFIR_PERIODS}: "
                "raise period_min, lower period_max or give n_periods"
            )
    if longest > days:
        raise InvalidInput(f"period_max {longest:g} d is longer than the data span ({days:.4g} d)")
    if clean.period_min >= longest:
        raise InvalidInput(
            f"period_min {clean.period_min:g} d must be below period_max {longest:.4g} d "
            f"(default: half the {days:.4g} d data span)"
        )
    return clean.model_dump()


def process_params_validate(params: dict) -> dict:
    """Check a processing request: the target and at most three known presets (``ProcessParams``)."""
    clean = params_validate(ProcessParams, params, what="process_target")
    if not Target.objects.filter(pk=clean.target_id).exists():
        raise InvalidInput(f"target {clean.target_id} does not exist")
    return clean.model_dump()
