"""Circular-aperture sums and artifact flags on many frames at fixed positions.

A movie's sources do not move between frames, so the exact-overlap weights of each aperture
(photutils ``CircularAperture.to_mask(method="exact")``) are cut once per leg and applied to
every frame by a numba kernel that releases the GIL. The per-frame answer is the one
``photutils.aperture_photometry(frame, apertures, method="exact")`` gives (same weights, same
pixels: those of weight > 0; NaN for an aperture wholly off the image), without building the
masks again for each frame and in each thread's own time. The photutils calls themselves are
kept in :mod:`.photometry` as the slow references the kernels are tested against.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit
from photutils.aperture import CircularAperture

ARTIFACT_BITS = 0b1111
"""The four artifact bits gPhoton 2 photometers (hotspot, ghost, wide and narrow edge)."""


@dataclass(frozen=True)
class ApertureStamps:
    """Exact-overlap weights of circular apertures cut for one image shape.

    ``weights[s]`` is aperture ``s``'s mask padded with zeros to a common size, its top-left
    pixel at (``y0[s]``, ``x0[s]``) of the image; ``overlaps[s]`` says whether its bounding box
    touches the image at all (photutils reports NaN when it does not).
    """

    shape: tuple[int, int]
    y0: np.ndarray
    x0: np.ndarray
    weights: np.ndarray
    overlaps: np.ndarray

    def __len__(self) -> int:
        return len(self.y0)

    def sums(self, plane: np.ndarray) -> np.ndarray:
        """Weighted sums of ``plane`` in each aperture (float32, NaN wholly off the image)."""
        self._check(plane)
        out = np.empty(len(self), np.float64)
        _stamp_sums_kernel(plane, self.y0, self.x0, self.weights, self.overlaps, out)
        return out.astype(np.float32)

    def flags(self, flag_plane: np.ndarray) -> np.ndarray:
        """Artifact bits (the four gPhoton 2 reads) set on any pixel each aperture touches."""
        self._check(flag_plane)
        out = np.zeros(len(self), np.uint8)
        _stamp_flags_kernel(flag_plane, self.y0, self.x0, self.weights, np.uint8(ARTIFACT_BITS), out)
        return out

    def _check(self, plane: np.ndarray) -> None:
        if plane.shape != self.shape:
            raise ValueError(f"plane shape {plane.shape} is not the stamps' {self.shape}")


def aperture_stamps(positions: np.ndarray, radius_px: float, shape: tuple[int, int]) -> ApertureStamps:
    """Cut the exact-overlap weights of apertures of ``radius_px`` at 0-based (x, y) ``positions``."""
    positions = np.asarray(positions, np.float64).reshape(-1, 2)
    shape = (int(shape[0]), int(shape[1]))
    if len(positions) == 0:
        empty = np.zeros(0, np.int64)
        return ApertureStamps(shape, empty, empty, np.zeros((0, 1, 1)), np.zeros(0, np.bool_))
    masks = CircularAperture(positions, r=radius_px).to_mask(method="exact")  # a list: positions are (m, 2)
    height = max(m.data.shape[0] for m in masks)
    width = max(m.data.shape[1] for m in masks)
    weights = np.zeros((len(masks), height, width), np.float64)
    for s, mask in enumerate(masks):
        weights[s, : mask.data.shape[0], : mask.data.shape[1]] = mask.data
    y0 = np.array([m.bbox.iymin for m in masks], np.int64)
    x0 = np.array([m.bbox.ixmin for m in masks], np.int64)
    overlaps = np.array([m.get_overlap_slices(shape)[0] is not None for m in masks], np.bool_)
    return ApertureStamps(shape, y0, x0, weights, overlaps)


@njit(cache=True, nogil=True)
def _stamp_sums_kernel(plane, y0, x0, weights, overlaps, out):
    ny, nx = plane.shape
    m, h, w = weights.shape
    for s in range(m):
        if not overlaps[s]:
            out[s] = np.nan
            continue
        total = 0.0
        for a in range(max(0, -y0[s]), min(h, ny - y0[s])):
            for b in range(max(0, -x0[s]), min(w, nx - x0[s])):
                weight = weights[s, a, b]
                if weight > 0:
                    total += plane[y0[s] + a, x0[s] + b] * weight
        out[s] = total


@njit(cache=True, nogil=True)
def _stamp_flags_kernel(plane, y0, x0, weights, bits, out):
    ny, nx = plane.shape
    m, h, w = weights.shape
    for s in range(m):
        seen = np.uint8(0)
        for a in range(max(0, -y0[s]), min(h, ny - y0[s])):
            for b in range(max(0, -x0[s]), min(w, nx - x0[s])):
                if weights[s, a, b] > 0:
                    seen |= plane[y0[s] + a, x0[s] + b]
        out[s] = seen & bits
