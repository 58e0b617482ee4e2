"""Reads of eclipse products, shaped for the eclipse page (downsampled images, frames, light curves)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from astropy.io import fits
from django.db.models import QuerySet

from apps.core.errors import NotFound
from apps.core.files import resolve_data_path
from apps.galex.models import Eclipse
from apps.galex.science.gphoton_products import read_gaperture_csv, read_gmap_coadd
from apps.jobs.models import Artifact

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


def _latest(artifacts: list[Artifact], kind: str) -> list[Artifact]:
    return [a for a in artifacts if a.kind == kind]


@dataclass
class SkyImage:
    """A display-sized image plane with the TAN WCS numbers the hover needs."""

    data: np.ndarray  # (ny, nx) counts per display pixel
    factor: int  # display pixel = factor × factor product pixels
    crval: tuple[float, float]
    crpix: tuple[float, float]
    cdelt: tuple[float, float]
    shape: tuple[int, int]


def _block_sum(image: np.ndarray, factor: int) -> np.ndarray:
    if factor <= 1:
        return image.astype(float)
    ny, nx = (image.shape[0] // factor) * factor, (image.shape[1] // factor) * factor
    trimmed = np.nan_to_num(image[:ny, :nx].astype(float))
    return trimmed.reshape(ny // factor, factor, nx // factor, factor).sum(axis=(1, 3))


def _count_hdu(hdul: fits.HDUList):  # noqa: ANN202
    for hdu in hdul:
        if hdu.name == "COUNT" and hdu.data is not None:
            return hdu
    for hdu in hdul:
        if getattr(hdu, "data", None) is not None and getattr(hdu.data, "ndim", 0) >= 2:
            return hdu
    raise NotFound("no image plane in the product")


def _sky_image(array: np.ndarray, header: fits.Header, max_side: int) -> SkyImage:
    factor = max(1, int(np.ceil(max(array.shape) / max_side)))
    return SkyImage(
        data=_block_sum(array, factor),
        factor=factor,
        crval=(float(header.get("CRVAL1", 0.0)), float(header.get("CRVAL2", 0.0))),
        crpix=(
            float(header.get("CRPIX1", array.shape[1] / 2)),
            float(header.get("CRPIX2", array.shape[0] / 2)),
        ),
        cdelt=(float(header.get("CDELT1", -1.5 / 3600)), float(header.get("CDELT2", 1.5 / 3600))),
        shape=array.shape,
    )


def image_load(*, artifact: Artifact, max_side: int = MAX_IMAGE_SIDE) -> SkyImage:
    with fits.open(resolve_data_path(artifact.path)) as hdul:
        hdu = _count_hdu(hdul)
        return _sky_image(np.asarray(hdu.data, dtype=float), hdu.header, max_side)


def movie_frames(
    *, artifacts: list[Artifact], max_side: int = MAX_FRAME_SIDE, max_frames: int = MAX_FRAMES
) -> list[np.ndarray]:
    """Display-sized frames of a movie (one multi-frame file or burst files in frame order)."""
    frames: list[np.ndarray] = []
    for artifact in sorted(artifacts, key=lambda a: a.key):
        with fits.open(resolve_data_path(artifact.path)) as hdul:
            data = np.asarray(_count_hdu(hdul).data, dtype=float)
        cube = data if data.ndim == 3 else data[None, ...]
        factor = max(1, int(np.ceil(max(cube.shape[1:]) / max_side)))
        for plane in cube:
            frames.append(_block_sum(plane, factor))
            if len(frames) >= max_frames:
                return frames
    return frames


@dataclass
class SourceCurves:
    """Per-source light curves from the movie photometry table (gPhoton 2 column conventions)."""

    t_mid: np.ndarray  # (n_frames,) GALEX time, s
    t0: np.ndarray
    t1: np.ndarray
    exptime: np.ndarray
    curves: list[dict] = field(default_factory=list)  # label, ra, dec, cps, cps_err, flags


def source_table(*, artifact: Artifact) -> pd.DataFrame:
    path = resolve_data_path(artifact.path)
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
        path = resolve_data_path(artifact.path)
        if artifact.kind == "gphoton_lightcurve":
            curves.append((artifact.meta.get("file", path.name), read_gaperture_csv(path)))
        elif artifact.kind in ("gphoton_count", "gphoton_int"):
            coadd = read_gmap_coadd(path)
            coadds.append((artifact.meta.get("file", path.name), _coadd_image(coadd, path)))
    return GphotonProducts(curves, coadds)


def _coadd_image(coadd, path: Path) -> SkyImage:  # noqa: ANN001
    with fits.open(path) as hdul:
        header = hdul[0].header
    return _sky_image(np.asarray(coadd.image, dtype=float), header, MAX_IMAGE_SIDE)
