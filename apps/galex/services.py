"""Eclipse services: register raw6 inputs, reduce them into versioned products, import gPhoton products."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import transaction

from apps.core.errors import InvalidInput, NotFound
from apps.core.files import data_root, relative_data_path, resolve_data_path, sha256_file
from apps.galex.models import Eclipse, EclipseStatus
from apps.galex.science.errors import GalexError, ReductionCancelled
from apps.galex.science.gphoton_products import list_gphoton_products
from apps.galex.science.pipeline import STAGES, reduce_eclipse
from apps.galex.science.raw6 import read_raw6_header
from apps.galex.science.simulate import simulate_eclipse
from apps.jobs.models import Artifact, Job
from apps.jobs.runner import JobCancelled, code_version
from apps.jobs.services import artifact_store

COMPRESSIONS = ("gzip", "rice", "none")


def _inputs_dir(number: int, band: str, source: str) -> Path:
    return data_root() / "galex" / "inputs" / f"{source}-e{number:05d}-{band.lower()}"


def eclipse_register(
    *, raw6_path: Path, aspect_path: Path, source: str = "raw6", copy: bool = True
) -> Eclipse:
    """Record an eclipse from its raw6 file and aspect tables (copied under DATA_ROOT, checksummed)."""
    raw6_path, aspect_path = Path(raw6_path), Path(aspect_path)
    try:
        header = read_raw6_header(raw6_path)
    except GalexError as exc:
        raise InvalidInput(f"{raw6_path.name}: {exc}") from exc
    if not aspect_path.exists():
        raise InvalidInput(f"aspect tables {aspect_path} do not exist")
    folder = _inputs_dir(header.eclipse, header.band, source)
    if copy:
        folder.mkdir(parents=True, exist_ok=True)
        stored_raw6 = folder / raw6_path.name
        shutil.copy2(raw6_path, stored_raw6)
        stored_aspect = folder / "aspect"
        if stored_aspect.exists():
            shutil.rmtree(stored_aspect)
        if aspect_path.is_dir():
            shutil.copytree(aspect_path, stored_aspect)
        else:
            stored_aspect.mkdir()
            shutil.copy2(aspect_path, stored_aspect / aspect_path.name)
    else:
        stored_raw6, stored_aspect = raw6_path, aspect_path
    inputs = {stored_raw6.name: sha256_file(stored_raw6)}
    for table in sorted(Path(stored_aspect).glob("*")):
        if table.is_file():
            inputs[f"aspect/{table.name}"] = sha256_file(table)
    eclipse, _ = Eclipse.objects.update_or_create(
        number=header.eclipse,
        band=header.band,
        source=source,
        defaults={
            "raw6_path": relative_data_path(stored_raw6) if copy else str(stored_raw6),
            "aspect_path": relative_data_path(stored_aspect) if copy else str(stored_aspect),
            "inputs": inputs,
            "summary": {"n_events": header.n_events},
        },
    )
    return eclipse


def _input_path(stored: str) -> Path:
    path = Path(stored)
    return path if path.is_absolute() else resolve_data_path(stored)


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


def reduce_params_validate(params: dict) -> dict:
    try:
        clean = {
            "eclipse_id": int(params["eclipse_id"]),
            "depth": None
            if params.get("depth") in (None, "", 0)
            else float(params.get("depth", 30)),
            "compression": str(params.get("compression", "gzip")),
            "burst": bool(params.get("burst", False)),
        }
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(f"bad reduction parameters: {exc}") from exc
    if "depth" not in params:
        clean["depth"] = 30.0
    if clean["depth"] is not None and not 1 <= clean["depth"] <= 10_000:
        raise InvalidInput("depth must be within 1..10000 s (or null for no movie)")
    if clean["compression"] not in COMPRESSIONS:
        raise InvalidInput(f"compression must be one of {COMPRESSIONS}")
    eclipse = Eclipse.objects.filter(pk=clean["eclipse_id"]).first()
    if eclipse is None:
        raise InvalidInput(f"eclipse {clean['eclipse_id']} does not exist")
    if eclipse.status == EclipseStatus.IMPORTED:
        raise InvalidInput(
            f"{eclipse} holds read-only imported products; there is no raw6 to reduce"
        )
    return clean


def _product_kind_of(path: Path, kind: str) -> str:
    return {
        "photonlist": "photonlist",
        "image": "image",
        "movie": "movie",
        "image_photometry": "source_table",
        "movie_photometry": "lightcurves",
        "exposure": "exposure_table",
    }[kind]


def eclipse_reduce(
    *,
    eclipse: Eclipse,
    depth: float | None = 30.0,
    compression: str = "gzip",
    burst: bool = False,
    job: Job | None = None,
    on_stage: Callable[[str], None] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> dict:
    """Reduce an eclipse into photon list, image, movie, tables; each product a new artifact version.

    The work folder is cleared first, so a killed and rerun job starts from its inputs and writes
    complete products; artifacts are only recorded after the whole reduction succeeded.
    """
    work = data_root() / "galex" / "work" / (f"job{job.pk}" if job else f"eclipse{eclipse.pk}")
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    Eclipse.objects.filter(pk=eclipse.pk).update(status=EclipseStatus.REDUCING)
    current = {"stage": None}

    def progress(done: int, total: int, stage: str) -> None:
        if stage != current["stage"]:
            current["stage"] = stage
            if on_stage:
                on_stage(stage)
        if on_progress:
            on_progress(done, total)

    try:
        result = reduce_eclipse(
            _input_path(eclipse.raw6_path),
            _input_path(eclipse.aspect_path),
            work,
            band=eclipse.band,
            depth=depth,
            compression=compression,
            burst=burst,
            cal_dir=settings.GALEX_CAL_DIR,
            on_progress=progress,
            should_cancel=should_cancel,
        )
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
    provenance = {**result.provenance, "code_version": code_version(), "inputs": eclipse.inputs}
    stored: dict[str, list[int]] = {}
    with transaction.atomic():
        for kind, paths in result.product_paths().items():
            for index, path in enumerate(paths):
                key = (
                    f"{eclipse.artifact_prefix}/{kind}/{index:04d}"
                    if len(paths) > 1
                    else f"{eclipse.artifact_prefix}/{kind}"
                )
                artifact = artifact_store(
                    key=key,
                    kind=_product_kind_of(path, kind),
                    source=path,
                    job=job,
                    meta={
                        "depth": depth,
                        "compression": compression,
                        "burst": burst,
                        "band": eclipse.band,
                        "file": path.name,
                        "frame_index": index if kind == "movie" else None,
                    },
                    provenance=provenance,
                )
                stored.setdefault(kind, []).append(artifact.version)
        summary = {
            "n_events": result.n_events,
            "n_kept": result.n_kept,
            "timings": result.timings,
            "legs": [
                {
                    "leg": leg.leg,
                    "photons": leg.photon_count,
                    "exptime": leg.exptime,
                    "sources": leg.n_sources,
                    "frames": leg.n_frames,
                }
                for leg in result.legs
            ],
            "depth": depth,
            "compression": compression,
            "burst": burst,
        }
        Eclipse.objects.filter(pk=eclipse.pk).update(
            status=EclipseStatus.REDUCED,
            legs=len(result.legs),
            warnings=result.warnings,
            summary=summary,
        )
    shutil.rmtree(work, ignore_errors=True)
    return {
        "eclipse": str(eclipse),
        "products": {k: len(v) for k, v in stored.items()},
        "warnings": result.warnings,
        "summary": summary,
        "stages": list(STAGES),
    }


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
            latest = Artifact.objects.filter(key=key).order_by("-version").first()
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
