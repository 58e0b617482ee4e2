"""TAN image geometry (gPhoton 2's 1.5"/pixel frames) and the coverage plane."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from astropy.wcs import WCS
from numba import njit

from ..constants import (
    DEG_PER_PIXEL,
)
from ..errors import EmptyLeg

R2D = 180.0 / np.pi


# --------------------------------------------------------------------------------------
# Geometry (TAN WCS)
# --------------------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def _world_to_pixel_kernel(ra, dec, ra0, dec0, crpix1, crpix2, cdelt1, cdelt2):
    n = ra.shape[0]
    x = np.empty(n)
    y = np.empty(n)
    sd0, cd0 = np.sin(dec0 / R2D), np.cos(dec0 / R2D)
    for i in range(n):
        a = (ra[i] - ra0) / R2D
        sd, cd = np.sin(dec[i] / R2D), np.cos(dec[i] / R2D)
        cosc = sd0 * sd + cd0 * cd * np.cos(a)
        xx = cd * np.sin(a) / cosc * R2D
        yy = (cd0 * sd - sd0 * cd * np.cos(a)) / cosc * R2D
        x[i] = crpix1 - 1.0 + xx / cdelt1
        y[i] = crpix2 - 1.0 + yy / cdelt2
    return x, y


@dataclass(frozen=True)
class ImageGeometry:
    """A north-up TAN image: centre (ra0, dec0), size (ny, nx), 1.5"/pixel by default."""

    ra0: float
    dec0: float
    ny: int
    nx: int
    pixel_deg: float = DEG_PER_PIXEL

    @property
    def crpix(self) -> tuple[float, float]:
        return (self.nx / 2.0 + 0.5, self.ny / 2.0 + 0.5)

    def header_cards(self) -> dict:
        """WCS keywords as gPhoton 2 writes them (CDELT, CTYPE, CRPIX, CRVAL, EQUINOX, EPOCH)."""
        return {
            "CDELT1": -self.pixel_deg, "CDELT2": self.pixel_deg, "CTYPE1": "RA---TAN",
            "CTYPE2": "DEC--TAN", "CRPIX1": self.crpix[0], "CRPIX2": self.crpix[1],
            "CRVAL1": self.ra0, "CRVAL2": self.dec0, "EQUINOX": 2000.0, "EPOCH": 2000.0,
        }  # fmt: skip

    def wcs(self) -> WCS:
        w = WCS(naxis=2)
        w.wcs.cdelt = [-self.pixel_deg, self.pixel_deg]
        w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
        w.wcs.crpix = list(self.crpix)
        w.wcs.crval = [self.ra0, self.dec0]
        return w

    def world_to_pixel(self, ra: np.ndarray, dec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """0-based pixel coordinates (x along ra, y along dec); pixel i spans [i-0.5, i+0.5)."""
        return _world_to_pixel_kernel(
            np.ascontiguousarray(ra, np.float64), np.ascontiguousarray(dec, np.float64),
            self.ra0, self.dec0, self.crpix[0], self.crpix[1], -self.pixel_deg, self.pixel_deg,
        )  # fmt: skip

    def pixel_to_world(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Inverse of :meth:`world_to_pixel` (0-based), through astropy's WCS."""
        ra, dec = self.wcs().wcs_pix2world(np.asarray(x, np.float64), np.asarray(y, np.float64), 0)
        return np.asarray(ra), np.asarray(dec)


def bounding_geometry(ra_min: float, ra_max: float, dec_min: float, dec_max: float,
                      pixel_deg: float = DEG_PER_PIXEL) -> ImageGeometry:  # fmt: skip
    """gPhoton 2 ``make_bounding_wcs``: centre on the ra/dec midpoints, size from the ranges."""
    ra0, dec0 = (ra_min + ra_max) / 2.0, (dec_min + dec_max) / 2.0
    ra0 = ra0 if ra0 > 0 else ra0 + 360.0
    ny = int(math.ceil((dec_max - dec_min) / pixel_deg))
    nx = int(math.ceil((ra_max - ra_min) * math.cos(math.radians(dec0)) / pixel_deg))
    if nx < 1 or ny < 1:
        raise EmptyLeg(
            "image would be smaller than 1x1 pixel: the photon list is probably all flagged"
        )
    return ImageGeometry(ra0, dec0, ny, nx, pixel_deg)


# --------------------------------------------------------------------------------------
# Coverage
# --------------------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def _coverage_kernel(ny, nx, px, py, det_per_img):
    out = np.zeros((ny, nx), np.uint8)
    for iy in range(ny):
        for ix in range(nx):
            dmin, dmax = 1e30, 0.0
            for k in range(px.shape[0]):
                d = np.sqrt((ix - px[k]) ** 2 + (iy - py[k]) ** 2) * det_per_img
                dmin = min(dmin, d)
                dmax = max(dmax, d)
            bits = 0
            if dmax < 400.0:
                bits |= 8
            if dmax < 370.0:
                bits |= 2
            if dmax < 350.0:
                bits |= 4
            if bits == 0 and dmin < 400.0:
                bits = 1
            out[iy, ix] = bits
    return out


def coverage_map(geometry: ImageGeometry, pointing_ra: np.ndarray, pointing_dec: np.ndarray,
                 max_samples: int = 48) -> tuple[np.ndarray, float, float]:  # fmt: skip
    """Coverage bits per pixel from the detector footprint along the pointing track.

    A pixel is fully covered at radius R (detector pixels of 6") when it stays within R
    of the pointing centre at every sampled aspect record, partially when within 400 at
    some record. Returns (coverage uint8 (ny, nx), PARTAREA, FULLAREA) with areas in deg^2
    (gPhoton 2: ring area and the full-400 area).
    """
    idx = np.unique(
        np.linspace(0, len(pointing_ra) - 1, min(max_samples, len(pointing_ra))).astype(int)
    )
    px, py = geometry.world_to_pixel(pointing_ra[idx], pointing_dec[idx])
    cov = _coverage_kernel(geometry.ny, geometry.nx, px, py, geometry.pixel_deg * 3600 / 6.0)
    pix_area = geometry.pixel_deg**2
    full = float(((cov & 8) > 0).sum() * pix_area)
    partial = float((cov > 0).sum() * pix_area)
    return cov, partial - full, full
