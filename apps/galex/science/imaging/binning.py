"""Binning events into image planes (numba kernels and their numpy references) and
artifact bits."""

from __future__ import annotations

import numpy as np
from numba import njit

from ..constants import (
    ARTIFACT_GHOST,
    ARTIFACT_HARD_EDGE,
    ARTIFACT_HOTSPOT,
    ARTIFACT_SOFT_EDGE,
    FLAG_GHOST,
    NARROW_EDGE,
    WIDE_EDGE,
)


# --------------------------------------------------------------------------------------
# Binning kernels and references
# --------------------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def _pixel_index(v, n):
    # Pixel i spans [i-0.5, i+0.5); the far edge n-0.5 belongs to the last pixel, as in
    # histogram2d and gPhoton's bin2d. -1 means outside.
    i = int(np.floor(v + 0.5))
    if i == n and v == n - 0.5:
        return n - 1
    return i if 0 <= i < n else -1


@njit(cache=True, nogil=True)
def bin_kernel(x, y, w, image):
    ny, nx = image.shape
    for i in range(x.shape[0]):
        ix, iy = _pixel_index(x[i], nx), _pixel_index(y[i], ny)
        if ix >= 0 and iy >= 0:
            image[iy, ix] += w[i]


@njit(cache=True, nogil=True)
def bin_flags_kernel(x, y, bits, image):
    ny, nx = image.shape
    for i in range(x.shape[0]):
        if bits[i] == 0:
            continue
        ix, iy = _pixel_index(x[i], nx), _pixel_index(y[i], ny)
        if ix >= 0 and iy >= 0:
            image[iy, ix] |= bits[i]


@njit(cache=True, nogil=True)
def dose_kernel(col, row, dose):
    n0, n1 = dose.shape
    for i in range(col.shape[0]):
        c, r = col[i] * 4.0, row[i] * 4.0
        if c >= 0 and c < n0 and r >= 0 and r < n1:
            dose[int(c), int(r)] += 1.0


def bin_reference(x, y, w, shape) -> np.ndarray:
    """Weighted 2-D histogram with ``np.histogram2d`` (pixel i covers [i-0.5, i+0.5))."""
    ny, nx = shape
    hist, _, _ = np.histogram2d(
        y, x, bins=(ny, nx), range=[[-0.5, ny - 0.5], [-0.5, nx - 0.5]], weights=w
    )
    return hist


def bin_flags_reference(x, y, bits, shape) -> np.ndarray:
    """Per-bit booleanised histograms OR-ed together (gPhoton 2 ``make_mask_frame``)."""
    out = np.zeros(shape, np.uint8)
    for bit in range(4):
        sel = (bits & (1 << bit)) > 0
        out |= (bin_reference(x[sel], y[sel], np.ones(sel.sum()), shape) > 0).astype(
            np.uint8
        ) << bit
    return out


def artifact_bits(mask: np.ndarray, flags: np.ndarray, detrad: np.ndarray) -> np.ndarray:
    """gPhoton 2 ``combine_artifacts``: hotspot 1, ghost 2, detrad > 350: 4, > 370: 8."""
    bits = np.where(mask, ARTIFACT_HOTSPOT, 0) | np.where(flags == FLAG_GHOST, ARTIFACT_GHOST, 0)
    bits |= np.where(detrad > WIDE_EDGE, ARTIFACT_SOFT_EDGE, 0) | np.where(
        detrad > NARROW_EDGE, ARTIFACT_HARD_EDGE, 0
    )
    return bits.astype(np.uint8)
