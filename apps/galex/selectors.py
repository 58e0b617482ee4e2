"""Reads of eclipse products, shaped for the eclipse page (downsampled images, frames, light curves)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from astropy.io import fits
from django.db.models import QuerySet

from apps.core.errors import NotFound
from apps.galex.models import Eclipse, EclipseTarget
from apps.galex.science.aspect import angular_separation_deg
from apps.galex.science.gphoton_products import read_gaperture_csv, read_gmap_coadd
from apps.galex.science.preview import (
    STRETCHES,
    block_sum,
    display_factor,
    image_planes,
    quantise,
    read_image_preview,
    read_movie_frames,
    stretch,
    white_point,
)
from apps.galex.science.times import galex_to_bjd
from apps.jobs.models import Artifact
from apps.jobs.services import artifact_local_path

MAX_IMAGE_SIDE = 600
MAX_FRAME_SIDE = 160
MAX_FRAMES = 120
MAX_LIGHTCURVES = 8


def eclipse_list() -> QuerySet[Eclipse]:
    return Eclipse.objects.order_by("source", "number", "band", "label")


def eclipse_get(*, eclipse_id: int) -> Eclipse:
    try:
        return Eclipse.objects.get(pk=eclipse_id)
    except Eclipse.DoesNotExist as exc:
        raise NotFound(f"eclipse {eclipse_id} does not exist") from exc


def eclipse_artifacts(*, eclipse: Eclipse) -> list[Artifact]:
    """Newest version of every product of the eclipse (older versions stay in the jobs' reports)."""
    latest: dict[str, Artifact] = {}
    for artifact in Artifact.objects.filter(key__startswith=f"{eclipse.artifact_prefix}/").order_by(
        "key", "-version"
    ):
        latest.setdefault(artifact.key, artifact)
    return sorted(latest.values(), key=lambda a: a.key)


@dataclass
class SkyImage:
    """A display image: uint8 planes per stretch, with the TAN WCS numbers the hover needs."""

    planes: dict[str, np.ndarray]  # stretch -> uint8 (ny, nx), white at 255
    factor: int  # display pixel = factor x factor product pixels
    crval: tuple[float, float]
    crpix: tuple[float, float]
    cdelt: tuple[float, float]
    shape: tuple[int, int]  # of the product image


def _count_hdu(hdul: fits.HDUList):  # noqa: ANN202
    for hdu in hdul:
        if hdu.name == "COUNT" and hdu.data is not None:
            return hdu
    for hdu in hdul:
        if getattr(hdu, "data", None) is not None and getattr(hdu.data, "ndim", 0) >= 2:
            return hdu
    raise NotFound("no image plane in the product")


def _sky_image(array: np.ndarray, header: fits.Header, max_side: int = MAX_IMAGE_SIDE) -> SkyImage:
    factor, planes = image_planes(array, max_side)
    return SkyImage(
        planes=planes,
        factor=factor,
        crval=(float(header.get("CRVAL1", 0.0)), float(header.get("CRVAL2", 0.0))),
        crpix=(
            float(header.get("CRPIX1", array.shape[1] / 2)),
            float(header.get("CRPIX2", array.shape[0] / 2)),
        ),
        cdelt=(float(header.get("CDELT1", -1.5 / 3600)), float(header.get("CDELT2", 1.5 / 3600))),
        shape=array.shape,
    )


def image_display(*, artifacts: list[Artifact]) -> SkyImage | None:
    """The eclipse's full-depth image for the page: its preview (a few hundred kB), or, for a
    reduction made before previews existed, the image product itself."""
    preview = next((a for a in artifacts if a.kind == "image_preview"), None)
    if preview is not None:
        with artifact_local_path(preview) as path:
            data = read_image_preview(path)
        return SkyImage({k: data[k] for k in STRETCHES}, data["factor"], data["crval"], data["crpix"],
                        data["cdelt"], data["shape"])  # fmt: skip
    image = next((a for a in artifacts if a.kind == "image"), None)
    if image is None:
        return None
    with artifact_local_path(image) as path, fits.open(path) as hdul:
        hdu = _count_hdu(hdul)
        return _sky_image(np.asarray(hdu.data, dtype=float), hdu.header)


@dataclass
class MovieFrames:
    """A page of display frames (uint8, log stretch, one white point for the movie)."""

    n_frames: int
    start: int
    frames: np.ndarray  # (count, ny, nx) uint8


def movie_frames(*, artifacts: list[Artifact], start: int = 0, count: int = 16) -> MovieFrames:
    """Frames ``start..start+count`` of the eclipse's movie, from its preview (memory-mapped);
    a reduction made before previews is read from the movie product (first ``MAX_FRAMES``)."""
    preview = next((a for a in artifacts if a.kind == "movie_preview"), None)
    if preview is not None:
        with artifact_local_path(preview) as path:
            n, frames = read_movie_frames(path, start, count)
        return MovieFrames(n, start, frames)
    movies = sorted((a for a in artifacts if a.kind == "movie"), key=lambda a: a.key)
    if not movies:
        raise NotFound("this eclipse has no movie")
    summed: list[np.ndarray] = []
    for artifact in movies:
        with artifact_local_path(artifact) as path, fits.open(path) as hdul:
            data = np.asarray(_count_hdu(hdul).data, dtype=float)
        cube = data if data.ndim == 3 else data[None, ...]
        factor = display_factor(cube.shape, MAX_FRAME_SIDE)
        summed += [block_sum(plane, factor) for plane in cube[: MAX_FRAMES - len(summed)]]
    stretched = stretch(np.stack(summed), "log")
    frames = quantise(stretched, white_point(stretched))
    return MovieFrames(len(frames), start, frames[start : start + count])


@dataclass
class SourceCurves:
    """Per-source light curves from the movie photometry table (gPhoton 2 column conventions)."""

    t_mid: np.ndarray  # (n_frames,) GALEX time, s
    t0: np.ndarray
    t1: np.ndarray
    exptime: np.ndarray
    curves: list[dict] = field(default_factory=list)  # label, ra, dec, cps, cps_err, flags


def source_table(*, artifact: Artifact) -> pd.DataFrame:
    with artifact_local_path(artifact) as path:
        return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)


def source_curves(*, artifact: Artifact, limit: int = MAX_LIGHTCURVES) -> SourceCurves:
    """Per-frame count rates, brightest sources first.

    Uses the table's background-subtracted ``cps_i``/``cps_err_i`` columns when present, else
    cps = aperture_sum_i / expt_i with a Poisson error sqrt(counts) / expt_i.
    """
    table = source_table(artifact=artifact)
    n_frames = len([c for c in table.columns if c.startswith("aperture_sum_")])
    if n_frames == 0:
        raise NotFound("the light-curve table has no frames")
    t0 = np.array([table[f"t0_{i}"].iloc[0] for i in range(n_frames)], dtype=float)
    t1 = np.array([table[f"t1_{i}"].iloc[0] for i in range(n_frames)], dtype=float)
    expt = np.array([table[f"expt_{i}"].iloc[0] for i in range(n_frames)], dtype=float)
    sums = np.stack([table[f"aperture_sum_{i}"].to_numpy(float) for i in range(n_frames)], axis=1)
    flags = np.stack([table[f"artifact_flag_{i}"].to_numpy(int) for i in range(n_frames)], axis=1)
    order = np.argsort(-sums.sum(axis=1))[:limit]
    if all(f"cps_{i}" in table.columns and f"cps_err_{i}" in table.columns for i in range(n_frames)):
        cps = np.stack([table[f"cps_{i}"].to_numpy(float) for i in range(n_frames)], axis=1)
        err = np.stack([table[f"cps_err_{i}"].to_numpy(float) for i in range(n_frames)], axis=1)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            cps = np.where(expt > 0, sums / expt, np.nan)
            err = np.where(expt > 0, np.sqrt(np.clip(sums, 0, None)) / expt, np.nan)
    curves = []
    for rank, row in enumerate(order):
        ra = float(table["ra"].iloc[row]) if "ra" in table.columns else float("nan")
        dec = float(table["dec"].iloc[row]) if "dec" in table.columns else float("nan")
        curves.append(
            {
                "label": f"#{rank + 1} ({ra:.4f}, {dec:.4f})",
                "ra": ra,
                "dec": dec,
                "cps": cps[row],
                "cps_err": err[row],
                "flags": flags[row],
            }
        )
    return SourceCurves(t_mid=(t0 + t1) / 2, t0=t0, t1=t1, exptime=expt, curves=curves)


@dataclass
class GphotonProducts:
    lightcurves: list[tuple[str, pd.DataFrame]]
    coadds: list[tuple[str, SkyImage]]


def gphoton_products(*, artifacts: list[Artifact]) -> GphotonProducts:
    curves, coadds = [], []
    for artifact in artifacts:
        if artifact.kind not in ("gphoton_lightcurve", "gphoton_count", "gphoton_int"):
            continue
        with artifact_local_path(artifact) as path:
            if artifact.kind == "gphoton_lightcurve":
                curves.append((artifact.meta.get("file", path.name), read_gaperture_csv(path)))
            else:
                coadd = read_gmap_coadd(path)
                coadds.append((artifact.meta.get("file", path.name), _coadd_image(coadd, path)))
    return GphotonProducts(curves, coadds)


def _coadd_image(coadd, path: Path) -> SkyImage:  # noqa: ANN001
    with fits.open(path) as hdul:
        header = hdul[0].header
    return _sky_image(np.asarray(coadd.image, dtype=float), header)


# --------------------------------------------------------------------------------------
# Eclipses covering a catalogue target
# --------------------------------------------------------------------------------------
MATCH_RADIUS_ARCSEC = 10.0
"""A detected source this close to a target is its light curve; farther, the forced row is used."""


def target_source_id(target_id: int) -> str:
    """The ``source_id`` of a target's forced-photometry row in an eclipse's tables."""
    return f"target:{target_id}"


def target_eclipses(*, target_id: int) -> QuerySet[EclipseTarget]:
    """Eclipses whose field holds the target, nearest boresight first."""
    return (
        EclipseTarget.objects.filter(target_id=target_id)
        .select_related("eclipse")
        .order_by("eclipse__number", "eclipse__band", "separation_deg")
    )


@dataclass
class TargetGalexCurve:
    """The light curve, in one eclipse, of the source nearest a target."""

    eclipse: Eclipse
    leg: int
    source: str  # "detected, 2.1″ away" or "forced at the target's position"
    separation_arcsec: float
    bjd: np.ndarray  # frame mid-times, BJD_TDB (days)
    cps: np.ndarray
    cps_err: np.ndarray


def _lightcurve_artifact(artifacts: list[Artifact], leg: int) -> Artifact | None:
    tables = [a for a in artifacts if a.kind == "lightcurves" and f"-b{leg:02d}-" in a.meta.get("file", "")]
    default = [a for a in tables if a.meta.get("file", "").endswith("-12_8.csv") or a.meta.get("file", "").endswith("-12_8.parquet")]
    return (default or tables or [None])[0]


def target_galex_curves(*, target) -> list[TargetGalexCurve]:  # noqa: ANN001 - catalog.Target
    """For every eclipse covering the target: the nearest detected source's light curve (within
    ``MATCH_RADIUS_ARCSEC``), else the target's forced-photometry row; times in BJD_TDB."""
    if target.ra is None or target.dec is None:
        return []
    out = []
    for link in target_eclipses(target_id=target.pk):
        artifact = _lightcurve_artifact(eclipse_artifacts(eclipse=link.eclipse), link.leg)
        if artifact is None:
            continue
        table = source_table(artifact=artifact)
        n_frames = sum(1 for c in table.columns if c.startswith("aperture_sum_"))
        if n_frames == 0 or not len(table):
            continue
        forced = table["forced"].astype(bool) if "forced" in table.columns else pd.Series(False, index=table.index)
        separation = angular_separation_deg(target.ra, target.dec, table["ra"].to_numpy(float), table["dec"].to_numpy(float)) * 3600
        detected = np.where(~forced.to_numpy(), separation, np.inf)
        if detected.size and np.min(detected) <= MATCH_RADIUS_ARCSEC:
            row, source = int(np.argmin(detected)), f"detected source {np.min(detected):.1f}″ away"
        else:
            ids = table["source_id"].astype(str).to_numpy() if "source_id" in table.columns else np.array([])
            hits = np.flatnonzero(ids == target_source_id(target.pk))
            if not len(hits):
                continue
            row, source = int(hits[0]), "forced at the target's position"
        t0 = np.array([table[f"t0_{i}"].iloc[row] for i in range(n_frames)], float)
        t1 = np.array([table[f"t1_{i}"].iloc[row] for i in range(n_frames)], float)
        expt = np.array([table[f"expt_{i}"].iloc[row] for i in range(n_frames)], float)
        counts = np.array([table[f"aperture_sum_{i}"].iloc[row] for i in range(n_frames)], float)
        with np.errstate(divide="ignore", invalid="ignore"):
            cps = np.where(expt > 0, counts / expt, np.nan)
            err = np.where(expt > 0, np.sqrt(np.clip(counts, 0, None)) / expt, np.nan)
        out.append(TargetGalexCurve(link.eclipse, link.leg, source, float(separation[row]),
                                    galex_to_bjd((t0 + t1) / 2, target.ra, target.dec), cps, err))  # fmt: skip
    return out
