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
cps_0..N-1, cps_err_0..N-1, forced, source_id, aperture_correction_mag at the end.
Conventions: aperture sums are response-weighted counts; cps = aperture_sum_i / expt_i;
cps error = sqrt(aperture_sum_i) / expt_i (glcat docs). Pixel positions are 0-based; with the
default pixel convention ``gaia``, ra/dec come from them with origin 0. gPhoton 2 passes its
0-based centroids to ``wcs_pix2world(..., 1)`` and, for catalogue positions, feeds
``wcs_world2pix(..., 1)`` to photutils: its ra/dec sit one pixel (1.5") from the source, and its
forced apertures one pixel from the given position. ``pixel_convention="gphoton2"`` does the same.

Forced photometry (gPhoton 2 ``source_catalog_file``): rows for given (ra, dec) positions, with
their ``id``, are added after the detected sources, flagged ``forced``; their segmentation
columns are empty. Each table also carries ``aperture_correction_mag``: the light outside the
aperture, from the GALEX PSF (see :func:`aperture_correction`).
"""

from __future__ import annotations

import warnings as pywarnings
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np
import pandas as pd
from astropy.stats import SigmaClip
from astropy.utils.exceptions import AstropyDeprecationWarning
from numba import njit
from photutils.aperture import CircularAperture, aperture_photometry
from photutils.background import Background2D, MeanBackground, MedianBackground
from photutils.segmentation import (
    SourceCatalog,
    deblend_sources,
    detect_sources,
    make_2dgaussian_kernel,
)
from scipy.ndimage import binary_dilation, convolve, generic_filter

from .apertures import aperture_stamps
from .constants import ARCSEC_PER_PIXEL, ARTIFACT_HOTSPOT, band_constants
from .imaging import FullDepthImage
from .threads import run_on

DEFAULT_APERTURE_ARCSEC = 12.8
EXTRA_COLUMNS = ("forced", "source_id", "aperture_correction_mag")
"""Ours, last in every table: forced-photometry rows and their ids, the aperture correction."""
PIXEL_CONVENTIONS = {"gaia": 0.0, "gphoton2": 1.0}
"""Pixel convention -> offset (pixels) between a 0-based position and the one gPhoton 2 uses."""

# Aperture corrections (mag) of the GALEX PSF: the encircled-energy curves of Morrissey et al. 2007,
# ApJS 173, 682, Figure 4, read at the MCAT aperture radii, as tabulated in gPhoton's
# ``apcorrect1`` (gPhoton/analysis/utils.py). Linear in radius between the tabulated radii, the
# first value below 1.5", none beyond the last radius (NUV: beyond 60", where the table turns negative).
APCORR_RADII_ARCSEC = (1.5, 2.3, 3.8, 6.0, 9.0, 12.8, 17.3, 30.0, 60.0, 90.0)
APCORR_MAG = {
    "FUV": (1.65, 0.96, 0.36, 0.15, 0.10, 0.09, 0.07, 0.06, 0.03, 0.01),
    "NUV": (2.09, 1.33, 0.59, 0.23, 0.13, 0.09, 0.07, 0.04, 0.00, -0.01),
}
_PHOTUTILS_NAMES = {"xcentroid": "x_centroid", "ycentroid": "y_centroid"}
CATALOG_COLUMNS = ["label", "xcentroid", "ycentroid", "area", "segment_flux", "elongation",
                   "eccentricity", "equivalent_radius", "orientation", "max_value", "min_value"]  # fmt: skip


def aperture_correction(radius_arcsec: float, band: str) -> float:
    """Magnitudes to subtract from an aperture magnitude for the total (Morrissey et al. 2007).

    Multiply count rates by ``10 ** (0.4 * correction)`` for the whole source.
    """
    radii = np.asarray(APCORR_RADII_ARCSEC)
    mags = np.asarray(APCORR_MAG[band])
    last = radii[-2] if band == "NUV" else radii[-1]
    if radius_arcsec > last:
        return 0.0
    return float(np.interp(radius_arcsec, radii, mags))


def forced_positions(
    positions: pd.DataFrame, geometry, convention: str = "gaia"  # noqa: ANN001 - ImageGeometry
) -> pd.DataFrame:
    """Pixel positions (0-based, as apertures are placed) of given (ra, dec), with their ids.

    ``positions`` has ``ra``, ``dec`` (deg) and optionally ``id``; rows whose position falls
    outside the image are dropped. Returns columns ``xcentroid``, ``ycentroid``, ``ra``,
    ``dec``, ``source_id``.
    """
    offset = PIXEL_CONVENTIONS[convention]
    ra = positions["ra"].to_numpy(np.float64)
    dec = positions["dec"].to_numpy(np.float64)
    x, y = geometry.world_to_pixel(ra, dec)
    x, y = x + offset, y + offset
    inside = np.isfinite(x) & np.isfinite(y) & (x >= -0.5) & (x < geometry.nx - 0.5) & (y >= -0.5) & (y < geometry.ny - 0.5)
    ids = positions["id"].astype(str).to_numpy() if "id" in positions else np.arange(len(positions)).astype(str)
    return pd.DataFrame({"xcentroid": x[inside], "ycentroid": y[inside], "ra": ra[inside], "dec": dec[inside],
                         "source_id": ids[inside]})  # fmt: skip


@njit(cache=True, nogil=True)
def _nanmedian_filter_kernel(data, size_y, size_x, out):
    ny, nx = data.shape
    buf = np.empty(size_y * size_x, np.float64)
    for i in range(ny):
        for j in range(nx):
            n = 0
            for y in range(i - size_y // 2, i - size_y // 2 + size_y):
                if y < 0 or y >= ny:
                    continue
                for x in range(j - size_x // 2, j - size_x // 2 + size_x):
                    if 0 <= x < nx:
                        v = data[y, x]
                        if not np.isnan(v):
                            buf[n] = v
                            n += 1
            if n == 0:
                out[i, j] = np.nan
                continue
            values = np.sort(buf[:n])
            out[i, j] = values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2.0


def nanmedian_filter(data: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Median of the non-NaN values in a ``size`` window around each element (outside: NaN).

    Equal to ``scipy.ndimage.generic_filter(data, np.nanmedian, size, mode="constant",
    cval=nan)`` (:func:`nanmedian_filter_reference`), which photutils' ``Background2D`` runs
    on its background meshes with a Python call per mesh: most of the detection time.
    """
    values = np.ascontiguousarray(data, np.float64)
    out = np.empty_like(values)
    _nanmedian_filter_kernel(values, int(size[0]), int(size[1]), out)
    return out.astype(np.asarray(data).dtype, copy=False)


def nanmedian_filter_reference(data: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Slow, obvious twin of :func:`nanmedian_filter` (scipy's generic filter, numpy's nanmedian)."""
    with pywarnings.catch_warnings():
        pywarnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows
        return generic_filter(np.asarray(data), np.nanmedian, size=size, mode="constant", cval=np.nan)


class _Background2D(Background2D):
    """photutils' Background2D with the mesh median filter in numba (same values, faster)."""

    def _filter_grid(self, data):  # noqa: ANN001, ANN202 - photutils' signature
        if tuple(self.filter_size) == (1, 1) or self.filter_threshold is not None:
            return super()._filter_grid(data)
        return nanmedian_filter(data, tuple(self.filter_size))


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


def find_sources(image: FullDepthImage, pool: Executor | None = None) -> Detection:
    """Detect point sources on a full-depth image with gPhoton 2's segmentation recipe.

    With a ``pool``, the steps that release the GIL run beside their neighbours there: the
    background rms beside the background, and the photometry sky (which needs only the
    segments' footprint, unchanged by deblending) beside the deblending. Same results.
    """
    cnt, edge = prepare_detection_image(image)
    multiplier, minimum = threshold_parameters(image.photon_count, image.exptime)
    empty = pd.DataFrame({c: pd.Series(dtype="float64") for c in CATALOG_COLUMNS}).set_index(
        "label"
    )
    if np.all(~np.isfinite(cnt)) or min(cnt.shape) < 16:
        return Detection(empty.assign(threshold_multiplier=multiplier, threshold_minimum=minimum),
                         np.zeros(cnt.shape, np.float32), multiplier, minimum)  # fmt: skip
    background, threshold = _background_and_threshold(cnt, multiplier, minimum, pool)
    sub = np.nan_to_num(cnt - background, nan=0.0)
    kernel = make_2dgaussian_kernel(fwhm=3, size=(3, 3)).array.astype(np.float32)
    convolved = convolve(sub, kernel)
    segm = detect_sources(convolved, threshold, 2, connectivity=4, mask=convolve(edge, kernel) > 0)
    del threshold
    footprint = None if segm is None else segm.data
    sky = run_on(pool, photometry_background, cnt, footprint)
    sources = empty if segm is None else _deblended_catalog(sub, convolved, segm)
    del segm, sub, convolved
    sources = sources.astype({c: "float32" for c in CATALOG_COLUMNS[3:]})
    sources["threshold_multiplier"] = multiplier
    sources["threshold_minimum"] = minimum
    return Detection(sources, background, multiplier, minimum, sky.result())


def _background_and_threshold(cnt: np.ndarray, multiplier: float, minimum: float,
                              pool: Executor | None = None) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Background of the detection image and the detection threshold (background rms floored
    at ``minimum``, times ``multiplier``)."""
    with pywarnings.catch_warnings():
        pywarnings.simplefilter("ignore")
        bkg = _Background2D(cnt, box_size=(15, 15), filter_size=(21, 21), sigma_clip=SigmaClip(sigma=3.0),
                           bkg_estimator=MedianBackground())  # fmt: skip
    # mesh filter and spline zoom of each (numba, scipy) release the GIL; photutils' lazy
    # properties are locked, and the two share nothing they write.
    rms = run_on(pool, lambda: bkg.background_rms)
    # float32 throughout and intermediates dropped early: a MIS image is ~3000x3000 pixels.
    background = np.asarray(bkg.background, np.float32)
    threshold = np.maximum(np.asarray(rms.result(), np.float32), np.float32(minimum)) * np.float32(multiplier)
    return background, threshold


def _deblended_catalog(sub: np.ndarray, convolved: np.ndarray, segm) -> pd.DataFrame:  # noqa: ANN001
    """Deblend the segments and measure them: the source table (gPhoton 2's column names,
    indexed by label)."""
    deblended = deblend_sources(convolved, segm, 3, n_levels=60, contrast=0.001, mode="exponential",
                                progress_bar=False)  # fmt: skip
    cat = SourceCatalog(sub, deblended, convolved_data=convolved)
    # photutils 3 renamed the centroid columns; the table keeps gPhoton 2's names.
    renamed = [_PHOTUTILS_NAMES.get(c, c) for c in CATALOG_COLUMNS]
    with pywarnings.catch_warnings():
        pywarnings.simplefilter("ignore", AstropyDeprecationWarning)
        table = cat.to_table(columns=renamed).to_pandas()
    return table.rename(columns={v: k for k, v in _PHOTUTILS_NAMES.items()}).set_index("label")


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
        bkg = _Background2D(np.nan_to_num(cnt, nan=0.0), box_size=(box, box), filter_size=(3, 3), mask=mask,
                           sigma_clip=None, bkg_estimator=MeanBackground(), exclude_percentile=90.0)  # fmt: skip
    return np.asarray(bkg.background, np.float32)


def aperture_sums(frame: np.ndarray, positions: np.ndarray, radius_px: float) -> np.ndarray:
    """Exact-overlap circular aperture sums (float32), positions 0-based (x, y) shape (m, 2).

    photutils itself: the reference :class:`.apertures.ApertureStamps` is tested against."""
    if len(positions) == 0:
        return np.zeros(0, np.float32)
    table = aperture_photometry(frame, CircularAperture(positions, r=radius_px), method="exact")
    return np.asarray(table["aperture_sum"], np.float32)


def aperture_flags(flag_plane: np.ndarray, positions: np.ndarray, radius_px: float) -> np.ndarray:
    """Artifact bits touching each aperture (gPhoton 2 ``bitwise_aperture_photometry``); the
    reference of :meth:`.apertures.ApertureStamps.flags`."""
    out = np.zeros(len(positions), np.uint8)
    if len(positions) == 0:
        return out
    for bit in range(4):
        plane = (flag_plane & (1 << bit)) > 0
        if plane.any():
            sums = aperture_sums(plane.astype(np.float64), positions, radius_px)
            out |= (sums > 0).astype(np.uint8) << bit
    return out


def _source_rows(detection: Detection, forced: pd.DataFrame | None) -> tuple[pd.DataFrame, int]:
    """The detected sources then the forced positions, one row each, and how many were detected."""
    table = detection.sources.reset_index(drop=True).copy()
    table["extended_source"] = pd.array([pd.NA] * len(table), dtype="Int16")
    detected = len(table)
    if forced is not None and len(forced):
        table = pd.concat([table, forced[["xcentroid", "ycentroid"]]], ignore_index=True)
        table["extended_source"] = table["extended_source"].astype("Int16")
    return table, detected


class LightCurveBuilder:
    """Accumulates per-frame photometry into gPhoton 2's wide light-curve table."""

    def __init__(
        self,
        image: FullDepthImage,
        detection: Detection,
        aperture_arcsec: float = DEFAULT_APERTURE_ARCSEC,
        band: str = "NUV",
        *,
        forced: pd.DataFrame | None = None,
        pixel_convention: str = "gaia",
    ):
        if pixel_convention not in PIXEL_CONVENTIONS:
            raise ValueError(f"pixel convention must be one of {sorted(PIXEL_CONVENTIONS)}, not {pixel_convention!r}")
        self.image, self.detection = image, detection
        self.image_band = band
        self.radius = aperture_arcsec / ARCSEC_PER_PIXEL
        table, detected = _source_rows(detection, forced)
        self.positions = table[["xcentroid", "ycentroid"]].to_numpy(np.float64)
        table["xcenter"], table["ycenter"] = self.positions[:, 0], self.positions[:, 1]
        self.stamps = aperture_stamps(self.positions, self.radius, image.count.shape)
        table["aperture_sum"] = self.stamps.sums(image.count)
        table["artifact_flag"] = self.stamps.flags(image.flag)
        offset = PIXEL_CONVENTIONS[pixel_convention]
        ra, dec = image.geometry.pixel_to_world(self.positions[:, 0] - offset, self.positions[:, 1] - offset)
        if forced is not None and len(forced):  # forced rows keep the positions they were given
            ra[detected:], dec[detected:] = forced["ra"].to_numpy(), forced["dec"].to_numpy()
        table["ra"], table["dec"] = ra, dec
        table["exptime"] = round(image.exptime, 3)
        sky = detection.background if detection.photometry_background is None else detection.photometry_background
        table["bkg_aperture_sum"] = self.stamps.sums(sky)
        table["forced"] = np.arange(len(table)) >= detected
        ids = [""] * detected + (list(forced["source_id"]) if forced is not None and len(forced) else [])
        table["source_id"] = ids
        table["aperture_correction_mag"] = aperture_correction(aperture_arcsec, band)
        self.table = table
        self.frame_sums: dict[int, np.ndarray] = {}
        self.frame_flags: dict[int, np.ndarray] = {}

    def add_frame(self, k: int, count: np.ndarray, flag: np.ndarray) -> None:
        """Aperture sums and artifact flags of movie frame ``k``."""
        self.frame_sums[k] = self.stamps.sums(count)
        self.frame_flags[k] = self.stamps.flags(flag)

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
        extras = list(EXTRA_COLUMNS)
        return pd.concat([self.table.drop(columns=extras), pd.DataFrame(cols), self.table[extras]], axis=1)


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
