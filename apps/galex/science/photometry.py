"""Source detection and aperture photometry (gPhoton 2 ``lightcurve``), light-curve tables.

Detection (gPhoton 2 ``get_point_sources``) on the full-depth COUNT image: hotspot pixels
(FLAG bit 1) and non-finite pixels set to 0, pixels outside full coverage (COVERAGE bit 2)
set to NaN; photutils ``Background2D`` (box 15, filter 21, 3-sigma clipping, median)
subtracted; threshold = multiplier x max(background rms, minimum) with
``multiplier = -0.14 ln(PHOTCNT) + 4`` and an Elliot-sigmoid ``minimum`` (adjusted for sparse
images, PHOTCNT/exptime < 15000); image and mask convolved with a 3x3 Gaussian of FWHM 3;
``detect_sources`` (2 pixels, 4-connectivity), ``deblend_sources`` (3 pixels, 60 levels,
contrast 0.001, exponential) and ``SourceCatalog`` columns.

Photometry: exact circular apertures (radius 12.8" by default) on the COUNT image and on
every movie frame; per-bit aperture sums of the FLAG planes give ``artifact_flag``.

Light-curve table (gPhoton 2 ``...-movie-photom-12_8.csv`` column order): xcentroid,
ycentroid, area, segment_flux, elongation, eccentricity, equivalent_radius, orientation,
max_value, min_value, threshold_multiplier, threshold_minimum, extended_source, xcenter,
ycenter, aperture_sum, artifact_flag, ra, dec, exptime, aperture_sum_0..N-1,
expt_0..N-1, t0_0..N-1, t1_0..N-1, artifact_flag_0..N-1. We add ``bkg_aperture_sum``
(mean off-source sky summed in the aperture, full depth) after ``exptime``, and
cps_0..N-1, cps_err_0..N-1 at the end.
Conventions: aperture sums are response-weighted counts; cps = aperture_sum_i / expt_i;
cps error = sqrt(aperture_sum_i) / expt_i (glcat docs); pixel positions are 0-based and
ra/dec come from them with origin 0 (gPhoton 2 passes 0-based centroids to
``wcs_pix2world(..., 1)``, which shifts its ra/dec by one pixel, 1.5").
"""

from __future__ import annotations

import warnings as pywarnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from astropy.stats import SigmaClip
from astropy.utils.exceptions import AstropyDeprecationWarning
from photutils.aperture import CircularAperture, aperture_photometry
from photutils.background import Background2D, MeanBackground, MedianBackground
from photutils.segmentation import (
    SourceCatalog,
    deblend_sources,
    detect_sources,
    make_2dgaussian_kernel,
)
from scipy.ndimage import binary_dilation, convolve

from .constants import ARCSEC_PER_PIXEL, ARTIFACT_HOTSPOT, band_constants
from .imaging import FullDepthImage

DEFAULT_APERTURE_ARCSEC = 12.8
_PHOTUTILS_NAMES = {"xcentroid": "x_centroid", "ycentroid": "y_centroid"}
CATALOG_COLUMNS = ["label", "xcentroid", "ycentroid", "area", "segment_flux", "elongation",
                   "eccentricity", "equivalent_radius", "orientation", "max_value", "min_value"]  # fmt: skip


def minimum_elliot_sigmoid(photon_count: float) -> float:
    """gPhoton 2's minimum background rms for thresholds, as a function of photon count."""
    b, c = 0.00182538272, 1058.67793
    z = b * (np.sqrt(photon_count) - c)
    return float(0.5 * z / (1 + abs(z)) + 0.53)


def threshold_parameters(photon_count: int, exptime: float) -> tuple[float, float]:
    """(multiplier, minimum) of the detection threshold (gPhoton 2 ``estimate_threshold``)."""
    multiplier = -0.14 * np.log(photon_count) + 4.0
    minimum = minimum_elliot_sigmoid(photon_count)
    if exptime > 0 and photon_count / exptime < 15000:
        if multiplier < 1.8:
            minimum = minimum * (multiplier / (multiplier + 0.5))
            multiplier += 0.75
            minimum += 0.1
        minimum += 0.05
    return float(multiplier), float(minimum)


@dataclass
class Detection:
    """Sources found on a full-depth image, and the background model used."""

    sources: pd.DataFrame  # CATALOG_COLUMNS (label as index) + threshold columns
    background: np.ndarray  # float32 (ny, nx): detection background (sigma-clipped median)
    multiplier: float
    minimum: float
    photometry_background: np.ndarray | None = None  # float32 (ny, nx): mean off-source level


def prepare_detection_image(image: FullDepthImage) -> tuple[np.ndarray, np.ndarray]:
    """Masked COUNT image and edge mask (gPhoton 2 ``zero_flag`` + coverage bit 2)."""
    cnt = image.count.astype(np.float32).copy()
    cnt[~np.isfinite(cnt)] = 0
    cnt[(image.flag & ARTIFACT_HOTSPOT) != 0] = 0
    edge = (image.coverage & 2) == 0
    cnt[edge] = np.nan
    return cnt, edge


def find_sources(image: FullDepthImage) -> Detection:
    """Detect point sources on a full-depth image with gPhoton 2's segmentation recipe."""
    cnt, edge = prepare_detection_image(image)
    multiplier, minimum = threshold_parameters(image.photon_count, image.exptime)
    empty = pd.DataFrame({c: pd.Series(dtype="float64") for c in CATALOG_COLUMNS}).set_index(
        "label"
    )
    if np.all(~np.isfinite(cnt)) or min(cnt.shape) < 16:
        return Detection(empty.assign(threshold_multiplier=multiplier, threshold_minimum=minimum),
                         np.zeros(cnt.shape, np.float32), multiplier, minimum)  # fmt: skip
    with pywarnings.catch_warnings():
        pywarnings.simplefilter("ignore")
        bkg = Background2D(cnt, box_size=(15, 15), filter_size=(21, 21), sigma_clip=SigmaClip(sigma=3.0),
                           bkg_estimator=MedianBackground())  # fmt: skip
    # float32 throughout and intermediates dropped early: a MIS image is ~3000x3000 pixels.
    background = np.asarray(bkg.background, np.float32)
    threshold = np.maximum(
        np.asarray(bkg.background_rms, np.float32), np.float32(minimum)
    ) * np.float32(multiplier)
    del bkg
    sub = np.nan_to_num(cnt - background, nan=0.0)
    kernel = make_2dgaussian_kernel(fwhm=3, size=(3, 3)).array.astype(np.float32)
    convolved = convolve(sub, kernel)
    convolved_mask = convolve(edge, kernel) > 0
    segm = detect_sources(convolved, threshold, 2, connectivity=4, mask=convolved_mask)
    del threshold, convolved_mask
    seg = None
    if segm is None:
        sources = empty
    else:
        deblended = deblend_sources(convolved, segm, 3, n_levels=60, contrast=0.001, mode="exponential",
                                    progress_bar=False)  # fmt: skip
        del segm
        cat = SourceCatalog(sub, deblended, convolved_data=convolved)
        # photutils 3 renamed the centroid columns; the table keeps gPhoton 2's names.
        renamed = [_PHOTUTILS_NAMES.get(c, c) for c in CATALOG_COLUMNS]
        with pywarnings.catch_warnings():
            pywarnings.simplefilter("ignore", AstropyDeprecationWarning)
            table = cat.to_table(columns=renamed).to_pandas()
        seg = deblended.data
        del cat, deblended
        sources = table.rename(columns={v: k for k, v in _PHOTUTILS_NAMES.items()}).set_index(
            "label"
        )
    del sub, convolved
    sources = sources.astype({c: "float32" for c in CATALOG_COLUMNS[3:]})
    sources["threshold_multiplier"] = multiplier
    sources["threshold_minimum"] = minimum
    return Detection(sources, background, multiplier, minimum, photometry_background(cnt, seg))


def photometry_background(
    cnt: np.ndarray, segments: np.ndarray | None, box: int = 48
) -> np.ndarray:
    """Mean sky level per pixel, off the detected segments (ours; gPhoton 2 does not subtract one).

    A sigma-clipped median is biased low on sparse Poisson images (most GALEX pixels hold
    0 or 1 photon), so light curves subtract this unclipped mean over pixels outside the
    (dilated) source segments, in boxes of ``box`` pixels, instead.
    """
    mask = ~np.isfinite(cnt)
    if segments is not None:
        mask |= binary_dilation(segments > 0, iterations=3)
    if mask.all():
        return np.zeros(cnt.shape, np.float32)
    box = int(min(box, max(4, min(cnt.shape) // 2)))
    with pywarnings.catch_warnings():
        pywarnings.simplefilter("ignore")
        bkg = Background2D(np.nan_to_num(cnt, nan=0.0), box_size=(box, box), filter_size=(3, 3), mask=mask,
                           sigma_clip=None, bkg_estimator=MeanBackground(), exclude_percentile=90.0)  # fmt: skip
    return np.asarray(bkg.background, np.float32)


def aperture_sums(frame: np.ndarray, positions: np.ndarray, radius_px: float) -> np.ndarray:
    """Exact-overlap circular aperture sums (float32), positions 0-based (x, y) shape (m, 2)."""
    if len(positions) == 0:
        return np.zeros(0, np.float32)
    table = aperture_photometry(frame, CircularAperture(positions, r=radius_px), method="exact")
    return np.asarray(table["aperture_sum"], np.float32)


def aperture_flags(flag_plane: np.ndarray, positions: np.ndarray, radius_px: float) -> np.ndarray:
    """Artifact bits touching each aperture (gPhoton 2 ``bitwise_aperture_photometry``)."""
    out = np.zeros(len(positions), np.uint8)
    if len(positions) == 0:
        return out
    for bit in range(4):
        plane = (flag_plane & (1 << bit)) > 0
        if plane.any():
            sums = aperture_sums(plane.astype(np.float64), positions, radius_px)
            out |= (sums > 0).astype(np.uint8) << bit
    return out


class LightCurveBuilder:
    """Accumulates per-frame photometry into gPhoton 2's wide light-curve table."""

    def __init__(
        self,
        image: FullDepthImage,
        detection: Detection,
        aperture_arcsec: float = DEFAULT_APERTURE_ARCSEC,
        band: str = "NUV",
    ):
        self.image, self.detection = image, detection
        self.image_band = band
        self.radius = aperture_arcsec / ARCSEC_PER_PIXEL
        table = detection.sources.reset_index(drop=True).copy()
        table["extended_source"] = pd.array([pd.NA] * len(table), dtype="Int16")
        self.positions = table[["xcentroid", "ycentroid"]].to_numpy(np.float64)
        table["xcenter"], table["ycenter"] = self.positions[:, 0], self.positions[:, 1]
        table["aperture_sum"] = aperture_sums(
            image.count.astype(np.float64), self.positions, self.radius
        )
        table["artifact_flag"] = aperture_flags(image.flag, self.positions, self.radius)
        ra, dec = image.geometry.pixel_to_world(self.positions[:, 0], self.positions[:, 1])
        table["ra"], table["dec"] = ra, dec
        table["exptime"] = round(image.exptime, 3)
        sky = (
            detection.photometry_background
            if detection.photometry_background is not None
            else detection.background
        )
        table["bkg_aperture_sum"] = aperture_sums(sky, self.positions, self.radius)
        self.table = table
        self.frame_sums: dict[int, np.ndarray] = {}
        self.frame_flags: dict[int, np.ndarray] = {}

    def add_frame(self, k: int, count: np.ndarray, flag: np.ndarray) -> None:
        """Aperture sums and artifact flags of movie frame ``k``."""
        self.frame_sums[k] = aperture_sums(count.astype(np.float64), self.positions, self.radius)
        self.frame_flags[k] = aperture_flags(flag, self.positions, self.radius)

    def movie_table(self, tranges: list[tuple[float, float]], exptimes: np.ndarray) -> pd.DataFrame:
        """The full-depth columns plus aperture_sum_i, expt_i, t0_i, t1_i, artifact_flag_i."""
        n = len(self.table)
        frames = range(len(tranges))
        cols: dict[str, np.ndarray] = {}
        for i in frames:
            cols[f"aperture_sum_{i}"] = self.frame_sums.get(i, np.zeros(n, np.float32))
        for name, values in (("expt", [round(float(e), 3) for e in exptimes]),
                             ("t0", [round(a, 3) for a, _ in tranges]), ("t1", [round(b, 3) for _, b in tranges])):  # fmt: skip
            for i in frames:
                cols[f"{name}_{i}"] = np.full(n, values[i])
        for i in frames:
            cols[f"artifact_flag_{i}"] = self.frame_flags.get(i, np.zeros(n, np.uint8))
        # Ours, after gPhoton's columns: cps_i = aperture_sum_i / expt_i, cps_err_i = sqrt(sum) / expt.
        rates = [
            rate_columns(cols[f"aperture_sum_{i}"], cols[f"expt_{i}"], self.image_band)
            for i in frames
        ]
        for name in ("cps", "cps_err"):
            for i in frames:
                cols[f"{name}_{i}"] = rates[i][name].to_numpy()
        return pd.concat([self.table, pd.DataFrame(cols)], axis=1)


# --------------------------------------------------------------------------------------
# Count-rate conventions (checked against real gPhoton products)
# --------------------------------------------------------------------------------------
def counts_to_mag(cps: np.ndarray, band: str) -> np.ndarray:
    """AB magnitude: -2.5 log10(cps) + zero point (NUV 20.08, FUV 18.82)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return -2.5 * np.log10(np.asarray(cps, np.float64)) + band_constants(band, 1).mag_zero_point


def counts_to_flux(cps: np.ndarray, band: str) -> np.ndarray:
    """Flux density, erg s-1 cm-2 A-1 (NUV 2.06e-16, FUV 1.40e-15 per count/s)."""
    return np.asarray(cps, np.float64) * band_constants(band, 1).flux_per_cps


def rate_columns(
    counts: np.ndarray, exptime: np.ndarray, band: str, background: np.ndarray | None = None
) -> pd.DataFrame:
    """cps, errors, flux and magnitudes from response-weighted counts, gPhoton's conventions.

    Without ``background``: cps = counts / exptime, cps_err = sqrt(counts) / exptime.
    With it (counts expected from the background in the aperture): cps = (counts - bg) /
    exptime, cps_err = sqrt(counts + bg) / exptime. mag_err_1 = mag(cps) - mag(cps + err),
    mag_err_2 = mag(cps - err) - mag(cps) (gPhoton 1 gAperture columns).
    """
    counts = np.asarray(counts, np.float64)
    exptime = np.asarray(exptime, np.float64)
    bg = np.zeros_like(counts) if background is None else np.asarray(background, np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        cps = (counts - bg) / exptime
        err = np.sqrt(counts + bg) / exptime
    mag = counts_to_mag(cps, band)
    return pd.DataFrame({
        "cps": cps, "cps_err": err, "flux": counts_to_flux(cps, band), "flux_err": counts_to_flux(err, band),
        "mag": mag, "mag_err_1": mag - counts_to_mag(cps + err, band),
        "mag_err_2": counts_to_mag(cps - err, band) - mag,
    })  # fmt: skip


def tidy_lightcurves(table: pd.DataFrame, band: str) -> pd.DataFrame:
    """One row per (source, frame) from a wide movie-photometry table.

    Columns: source (row index), ra, dec, frame, t0, t1, t_mean, counts, expt,
    bkg_counts (full-depth background scaled by expt_i / exptime), cps, cps_err (raw, no
    background subtraction), cps_bgsub, cps_bgsub_err, mag, flags.
    """
    n_frames = sum(1 for c in table.columns if c.startswith("aperture_sum_"))
    rows = []
    for i in range(n_frames):
        counts, expt = (
            table[f"aperture_sum_{i}"].to_numpy(np.float64),
            table[f"expt_{i}"].to_numpy(np.float64),
        )
        ratio = np.divide(expt, table["exptime"].to_numpy(np.float64), out=np.zeros(len(expt)),
                          where=table["exptime"].to_numpy() > 0)  # fmt: skip
        bkg = (
            table.get("bkg_aperture_sum", pd.Series(np.zeros(len(table)))).to_numpy(np.float64)
            * ratio
        )
        raw, sub = rate_columns(counts, expt, band), rate_columns(counts, expt, band, bkg)
        rows.append(pd.DataFrame({
            "source": np.arange(len(table)), "ra": table["ra"].to_numpy(), "dec": table["dec"].to_numpy(),
            "frame": i, "t0": table[f"t0_{i}"].to_numpy(), "t1": table[f"t1_{i}"].to_numpy(),
            "t_mean": (table[f"t0_{i}"].to_numpy() + table[f"t1_{i}"].to_numpy()) / 2, "counts": counts,
            "expt": expt, "bkg_counts": bkg, "cps": raw["cps"], "cps_err": raw["cps_err"],
            "cps_bgsub": sub["cps"], "cps_bgsub_err": sub["cps_err"], "mag": raw["mag"],
            "flags": table[f"artifact_flag_{i}"].to_numpy(),
        }))  # fmt: skip
    if not rows:
        return pd.DataFrame()
    return (
        pd.concat(rows, ignore_index=True)
        .sort_values(["source", "frame"], kind="stable")
        .reset_index(drop=True)
    )
