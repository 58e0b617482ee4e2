"""Eclipse services: register raw6 inputs, reduce them into versioned products, import gPhoton products."""

from __future__ import annotations

import math
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from django.conf import settings
from django.db import transaction

from apps.core.bounds import params_validate
from apps.core.errors import InvalidInput, NotFound
from apps.core.files import data_root, sha256_file
from apps.galex import selectors
from apps.galex.intake import _input_path, eclipse_link_targets, eclipse_register
from apps.galex.models import Eclipse, EclipseStatus
from apps.galex.params import ReduceParams
from apps.galex.science.aspect import (
    read_aspect,
)
from apps.galex.science.errors import GalexError, ReductionCancelled
from apps.galex.science.gphoton_products import list_gphoton_products
from apps.galex.science.imaging import depth_tag
from apps.galex.science.pipeline import STAGES, reduce_eclipse
from apps.galex.science.pipeline import photometry_only as run_photometry_only
from apps.galex.science.results import ReductionResult
from apps.galex.science.simulate import simulate_eclipse
from apps.jobs.models import Artifact, Job
from apps.jobs.runner import JobCancelled, code_version
from apps.jobs.selectors import artifact_latest
from apps.jobs.services import artifact_local_path, artifact_store


def eclipse_simulate(
    *,
    n_events: int = 300_000,
    seed: int = 0,
    band: str = "NUV",
    eclipse_number: int = 23456,
    duration: float | None = None,
) -> Eclipse:
    """Simulate a synthetic eclipse (planted sources, a flare) and register it."""
    work = (
        data_root() / "galex" / "simulations" / f"e{eclipse_number:05d}-{band.lower()}-seed{seed}"
    )
    if work.exists():
        shutil.rmtree(work)
    try:
        result = simulate_eclipse(
            work,
            settings.GALEX_CAL_DIR,
            n_events=n_events,
            seed=seed,
            band=band,
            eclipse=eclipse_number,
            duration=duration,
        )
    except GalexError as exc:
        raise InvalidInput(f"simulation failed: {exc}") from exc
    eclipse = eclipse_register(
        raw6_path=result.raw6_path, aspect_path=result.aspect_dir, source="synthetic"
    )
    eclipse.label = f"Synthetic eclipse e{eclipse_number:05d} {band} (seed {seed})"
    eclipse.inputs = {**eclipse.inputs, "truth.csv": sha256_file(result.truth_path)}
    eclipse.save(update_fields=["label", "inputs", "updated_at"])
    artifact_store(
        key=f"{eclipse.artifact_prefix}/truth",
        kind="truth",
        source=result.truth_path,
        move=False,
        meta={"file": result.truth_path.name},
    )
    return eclipse


def eclipse_leg_seconds(eclipse: Eclipse) -> list[float] | None:
    """Length of each observed leg from the aspect tables, s; None when they cannot be read."""
    if eclipse.number is None or not eclipse.aspect_path:
        return None
    try:
        aspect = read_aspect(_input_path(eclipse.aspect_path), eclipse.number)
    except (GalexError, OSError, ValueError):
        return None
    return [leg.t_stop - leg.t_start for leg in aspect.legs]


def movie_frame_count(leg_seconds: list[float], depth: float) -> int:
    """Frames the movies of all legs will have at ``depth`` s (edges as ``movie_edges``)."""
    return sum(int(seconds // depth) + 1 for seconds in leg_seconds)


def reduce_params_validate(params: dict) -> dict:
    """Check a reduction request: bounds (``ReduceParams``), the eclipse, and the movie frame cap."""
    clean = params_validate(ReduceParams, params, what="reduce_eclipse")
    eclipse = Eclipse.objects.filter(pk=clean.eclipse_id).first()
    if eclipse is None:
        raise InvalidInput(f"eclipse {clean.eclipse_id} does not exist")
    if eclipse.status == EclipseStatus.IMPORTED:
        raise InvalidInput(
            f"{eclipse} holds read-only imported products; there is no raw6 to reduce"
        )
    if clean.photometry_only and not Artifact.objects.filter(
        key__startswith=f"{eclipse.artifact_prefix}/image", kind="image"
    ).exists():
        raise InvalidInput(f"{eclipse} has no image yet: reduce it before a photometry-only run")
    legs = eclipse_leg_seconds(eclipse) if clean.depth is not None else None
    if legs:
        cap = settings.GAIA_GALEX_MAX_FRAMES
        frames = movie_frame_count(legs, clean.depth)
        if frames > cap:
            shortest = math.ceil(sum(legs) / max(1, cap - len(legs)))
            raise InvalidInput(
                f"depth {clean.depth:g} s makes {frames} movie frames for {sum(legs):.0f} s of exposure; "
                f"at most {cap} (GAIA_GALEX_MAX_FRAMES): choose a depth of about {shortest} s or more"
            )
    return clean.model_dump()


def _product_kind_of(path: Path, kind: str) -> str:
    return {
        "photonlist": "photonlist",
        "image": "image",
        "movie": "movie",
        "image_photometry": "source_table",
        "movie_photometry": "lightcurves",
        "exposure": "exposure_table",
        "image_preview": "image_preview",
        "movie_preview": "movie_preview",
    }[kind]


def _target_positions(eclipse: Eclipse) -> pd.DataFrame | None:
    """Forced-photometry positions of the targets in the field, id ``target:<pk>``."""
    rows = list(eclipse.target_links.select_related("target").values_list("target_id", "target__ra", "target__dec"))
    if not rows:
        return None
    return pd.DataFrame({"id": [selectors.target_source_id(pk) for pk, _, _ in rows], "ra": [r for _, r, _ in rows],
                         "dec": [d for _, _, d in rows]})  # fmt: skip


def _coregister_starts(eclipse: Eclipse, depth: float | None) -> dict[int, float]:
    """First frame start per leg of the other band's newest light curves at this depth (gPhoton 2
    ``coregister_lightcurves``); {} when the other band has none."""
    if depth is None or eclipse.number is None:
        return {}
    other = Eclipse.objects.filter(number=eclipse.number, source=eclipse.source).exclude(band=eclipse.band).first()
    if other is None:
        return {}
    starts: dict[int, float] = {}
    tag = f"-{depth_tag(depth)}-b"
    for artifact in selectors.eclipse_artifacts(eclipse=other):
        name = artifact.meta.get("file", "")
        if artifact.kind != "lightcurves" or tag not in name:
            continue
        leg = int(name.split(tag, 1)[1][:2])
        if leg not in starts:
            table = selectors.source_table(artifact=artifact)
            if "t0_0" in table.columns and len(table):
                starts[leg] = float(table["t0_0"].iloc[0])
    return starts


def _copy_products(eclipse: Eclipse, work: Path) -> None:
    """The newest image and movie files of the eclipse, into ``work`` (for photometry only)."""
    for artifact in selectors.eclipse_artifacts(eclipse=eclipse):
        if artifact.kind in ("image", "movie"):
            with artifact_local_path(artifact) as path:
                shutil.copyfile(path, work / path.name)


@dataclass(frozen=True)
class _ReduceRequest:
    """What :func:`eclipse_reduce` was asked for (the job parameters, as passed)."""

    depth: float | None
    compression: str
    burst: bool
    aperture_sizes: tuple[float, ...]
    pixel_convention: str
    coregister: bool
    photometry_only: bool
    threads: int


def eclipse_reduce(
    *,
    eclipse: Eclipse,
    depth: float | None = 30.0,
    compression: str = "gzip",
    burst: bool = False,
    aperture_sizes: list[float] | tuple[float, ...] = (12.8,),
    pixel_convention: str = "gaia",
    coregister: bool = False,
    photometry_only: bool = False,
    threads: int = 1,
    job: Job | None = None,
    on_stage: Callable[[str], None] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> dict:
    """Reduce an eclipse into photon list, image, movie, tables; each product a new artifact version.

    Targets in the field are linked first and get forced photometry (rows ``target:<pk>``).
    ``photometry_only`` redoes only the tables, on the newest image and movie; ``coregister``
    starts the frames where the other band's light curves start. The work folder is cleared
    first, so a killed and rerun job starts from its inputs and writes complete products;
    artifacts are only recorded after the whole reduction succeeded.
    """
    request = _ReduceRequest(depth, compression, burst, tuple(aperture_sizes), pixel_convention,
                             coregister, photometry_only, threads)  # fmt: skip
    work = data_root() / "galex" / "work" / (f"job{job.pk}" if job else f"eclipse{eclipse.pk}")
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    Eclipse.objects.filter(pk=eclipse.pk).update(status=EclipseStatus.REDUCING)
    eclipse_link_targets(eclipse=eclipse)
    photometry = {"band": eclipse.band, "depth": depth, "aperture_sizes": request.aperture_sizes,
                  "positions": _target_positions(eclipse), "pixel_convention": pixel_convention}  # fmt: skip
    with _failed_reduction(eclipse, work):
        result = _run_reduction(eclipse, request, work, photometry,
                                _stage_progress(on_stage, on_progress), should_cancel)  # fmt: skip
    with transaction.atomic():
        stored = _store_products(eclipse, request, result, job)
        summary = _reduction_summary(eclipse, request, result)
        Eclipse.objects.filter(pk=eclipse.pk).update(status=EclipseStatus.REDUCED, legs=len(result.legs),
                                                     warnings=result.warnings, summary=summary)  # fmt: skip
    shutil.rmtree(work, ignore_errors=True)
    return {"eclipse": str(eclipse), "eclipse_id": eclipse.pk, "products": {k: len(v) for k, v in stored.items()},
            "warnings": result.warnings, "summary": summary, "stages": list(STAGES)}  # fmt: skip


def _stage_progress(
    on_stage: Callable[[str], None] | None, on_progress: Callable[[int, int], None] | None
) -> Callable[[int, int, str], None]:
    """The pipeline's ``on_progress(done, total, stage)``, as a stage change plus a count."""
    current = {"stage": None}

    def progress(done: int, total: int, stage: str) -> None:
        if stage != current["stage"]:
            current["stage"] = stage
            if on_stage:
                on_stage(stage)
        if on_progress:
            on_progress(done, total)

    return progress


@contextmanager
def _failed_reduction(eclipse: Eclipse, work: Path) -> Iterator[None]:
    """On failure: the eclipse back to registered (cancelled) or failed, the work folder removed,
    and a GALEX error or cancellation as the job's error."""
    try:
        yield
    except ReductionCancelled as exc:
        Eclipse.objects.filter(pk=eclipse.pk).update(status=EclipseStatus.REGISTERED)
        shutil.rmtree(work, ignore_errors=True)
        raise JobCancelled(str(exc)) from exc
    except GalexError as exc:
        Eclipse.objects.filter(pk=eclipse.pk).update(status=EclipseStatus.FAILED)
        shutil.rmtree(work, ignore_errors=True)
        raise InvalidInput(f"{eclipse}: {exc}") from exc
    except BaseException:
        Eclipse.objects.filter(pk=eclipse.pk).update(status=EclipseStatus.FAILED)
        shutil.rmtree(work, ignore_errors=True)
        raise


def _run_reduction(eclipse: Eclipse, request: _ReduceRequest, work: Path, photometry: dict,
                   progress: Callable[[int, int, str], None],
                   should_cancel: Callable[[], bool] | None) -> ReductionResult:  # fmt: skip
    """The science reduction (or photometry only) of the eclipse's inputs into ``work``;
    ``photometry`` holds the options both share."""
    if request.photometry_only:
        _copy_products(eclipse, work)
        return run_photometry_only(work, **photometry)
    return reduce_eclipse(
        _input_path(eclipse.raw6_path),
        _input_path(eclipse.aspect_path),
        work,
        compression=request.compression,
        burst=request.burst,
        cal_dir=settings.GALEX_CAL_DIR,
        on_progress=progress,
        should_cancel=should_cancel,
        frame_starts=_coregister_starts(eclipse, request.depth) if request.coregister else None,
        threads=request.threads,
        **photometry,
    )


def _store_products(eclipse: Eclipse, request: _ReduceRequest, result: ReductionResult,
                    job: Job | None) -> dict[str, list[int]]:  # fmt: skip
    """Each product file a new artifact version; returns the versions stored, by kind."""
    provenance = {**result.provenance, "code_version": code_version(), "inputs": eclipse.inputs}
    stored: dict[str, list[int]] = {}
    for kind, paths in result.product_paths().items():
        if request.photometry_only and kind not in ("image_photometry", "movie_photometry"):
            continue  # the images and movies photometered are already artifacts
        for index, path in enumerate(paths):
            key = f"{eclipse.artifact_prefix}/{kind}/{index:04d}" if len(paths) > 1 else f"{eclipse.artifact_prefix}/{kind}"
            meta = {
                "depth": request.depth, "compression": request.compression, "burst": request.burst,
                "band": eclipse.band, "file": path.name, "frame_index": index if kind == "movie" else None,
                "aperture": path.stem.rsplit("-photom-", 1)[1] if "-photom-" in path.name else None,
            }  # fmt: skip
            artifact = artifact_store(key=key, kind=_product_kind_of(path, kind), source=path, job=job,
                                      meta=meta, provenance=provenance)  # fmt: skip
            stored.setdefault(kind, []).append(artifact.version)
    return stored


def _reduction_summary(eclipse: Eclipse, request: _ReduceRequest, result: ReductionResult) -> dict:
    """The eclipse's summary; a photometry-only run keeps the numbers of the reduction that made
    the images and updates only its own."""
    summary = {
        "n_events": result.n_events,
        "n_kept": result.n_kept,
        "timings": result.timings,
        "legs": [
            {"leg": leg.leg, "photons": leg.photon_count, "exptime": leg.exptime,
             "sources": leg.n_sources, "frames": leg.n_frames}
            for leg in result.legs
        ],  # fmt: skip
        "depth": request.depth,
        "compression": request.compression,
        "burst": request.burst,
        "aperture_sizes": list(request.aperture_sizes),
        "pixel_convention": request.pixel_convention,
        "coregistered": bool(request.coregister and result.provenance["parameters"].get("frame_starts")),
        "photometry_only": request.photometry_only,
        "forced_targets": sum(leg.n_forced for leg in result.legs),
    }
    if request.photometry_only:
        before = Eclipse.objects.values_list("summary", flat=True).get(pk=eclipse.pk)
        summary = {**before, **{k: summary[k] for k in ("aperture_sizes", "pixel_convention",
                                                                 "photometry_only", "forced_targets")}}  # fmt: skip
    return summary


def gphoton_import(*, folder: Path) -> list[Eclipse]:
    """Import real gPhoton products (gAperture light curves, gMap coadds) as read-only eclipses."""
    products = list_gphoton_products(folder)
    if not products:
        raise NotFound(f"no gPhoton products in {folder}")
    groups: dict[tuple[str, str], list[dict]] = {}
    for product in products:
        groups.setdefault((product["target"], product["band"]), []).append(product)
    eclipses = []
    for (target, band), items in sorted(groups.items()):
        label = f"{target.replace('_', ' ')} {band} (gPhoton products)"
        eclipse, _ = Eclipse.objects.get_or_create(
            label=label, source="gphoton", band=band, defaults={"status": EclipseStatus.IMPORTED}
        )
        inputs = {}
        for item in items:
            path = Path(item["path"])
            sha = sha256_file(path)
            inputs[path.name] = sha
            key = f"{eclipse.artifact_prefix}/gphoton/{path.name}"
            latest = artifact_latest(key=key)
            if latest is None or latest.sha256 != sha:
                artifact_store(
                    key=key,
                    kind=f"gphoton_{item['kind']}",
                    source=path,
                    move=False,
                    meta={"file": path.name, "band": band, "read_only": True},
                )
        Eclipse.objects.filter(pk=eclipse.pk).update(inputs=inputs, status=EclipseStatus.IMPORTED)
        eclipse.refresh_from_db()
        eclipses.append(eclipse)
    return eclipses
