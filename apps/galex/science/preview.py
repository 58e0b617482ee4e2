"""Display previews of images and movies: block-summed, stretched, quantised to uint8.

The eclipse page never reads a product FITS file: the reduction writes, beside each image, an
``...-image-preview.npz`` (the counts block-summed to at most ``IMAGE_SIDE`` pixels a side, as
log and asinh stretches in uint8, with the WCS numbers a hover needs) and, beside each movie, an
``...-movie-preview.npy`` (every frame block-summed to at most ``FRAME_SIDE`` pixels a side, log
stretch, uint8, one scale for the whole movie so frames compare). Both are a few hundred kB; the
movie preview is read with a memory map, a slice of frames at a time.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
from numba import njit

IMAGE_SIDE = 600
FRAME_SIDE = 160
STRETCHES = ("log", "asinh")
_PERCENTILE = 99.7  # the stretch's white point
_SAMPLE = 4_000_000  # values the movie's white point is taken from, at most


def display_factor(shape: tuple[int, ...], max_side: int) -> int:
    """Block size that brings the longer side of ``shape`` (last two axes) to ``max_side`` or less."""
    return max(1, int(np.ceil(max(shape[-2:]) / max_side)))


def block_sum(image: np.ndarray, factor: int) -> np.ndarray:
    """Sum ``factor`` x ``factor`` blocks (the ragged edge dropped), NaN as 0; float64 (ny', nx').

    One pass of a numba kernel (a movie preview block-sums every frame of the movie);
    :func:`block_sum_reference` is its numpy twin."""
    values = np.asarray(image)
    if factor <= 1:
        return block_sum_reference(values, factor)
    out = np.zeros((values.shape[0] // factor, values.shape[1] // factor), np.float64)
    _block_sum_kernel(values, int(factor), out)
    return out


@njit(cache=True, nogil=True)
def _block_sum_kernel(values, factor, out):
    ny, nx = out.shape
    for i in range(ny * factor):
        row = i // factor
        for j in range(nx * factor):
            v = values[i, j]
            if np.isfinite(v):
                out[row, j // factor] += v


def block_sum_reference(image: np.ndarray, factor: int) -> np.ndarray:
    """:func:`block_sum` with numpy: non-finite values zeroed, then a reshape and a sum."""
    values = np.asarray(image)
    if not np.isfinite(values).all():
        values = np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)
    if factor <= 1:
        return values.astype(np.float64)
    ny, nx = (values.shape[0] // factor) * factor, (values.shape[1] // factor) * factor
    blocks = values[:ny, :nx].reshape(ny // factor, factor, nx // factor, factor)
    return blocks.sum(axis=(1, 3), dtype=np.float64)


def stretch(values: np.ndarray, kind: str) -> np.ndarray:
    """``log``: log10(1 + counts); ``asinh``: asinh(counts / median positive count); ``linear``."""
    values = np.nan_to_num(np.asarray(values, dtype=np.float64), nan=0.0)
    if kind == "log":
        return np.log10(1.0 + np.clip(values, 0, None))
    if kind == "asinh":
        positive = values[values > 0]
        scale = float(np.median(positive)) if positive.size else 1.0
        return np.arcsinh(values / max(scale, 1e-9))
    if kind == "linear":
        return values
    raise ValueError(f"unknown stretch {kind!r}")


def white_point(stretched: np.ndarray) -> float:
    """The stretch value shown white (the 99.7th percentile; 1 when the image is empty)."""
    flat = np.asarray(stretched).reshape(-1)
    if flat.size > _SAMPLE:
        flat = flat[:: flat.size // _SAMPLE + 1]
    high = float(np.percentile(flat, _PERCENTILE)) if flat.size else 0.0
    return high if high > 0 else 1.0


def quantise(stretched: np.ndarray, high: float) -> np.ndarray:
    """0..high -> 0..255 (uint8), clipped."""
    return np.clip(np.rint(np.asarray(stretched) * (255.0 / high)), 0, 255).astype(np.uint8)


def image_planes(count: np.ndarray, max_side: int = IMAGE_SIDE) -> tuple[int, dict[str, np.ndarray]]:
    """``(factor, {stretch: uint8 plane})`` of a counts image for display."""
    factor = display_factor(count.shape, max_side)
    summed = block_sum(count, factor)
    planes = {}
    for kind in STRETCHES:
        values = stretch(summed, kind)
        planes[kind] = quantise(values, white_point(values))
    return factor, planes


def write_image_preview(
    path: str | os.PathLike,
    count: np.ndarray,
    *,
    crval: tuple[float, float],
    crpix: tuple[float, float],
    cdelt: tuple[float, float],
    max_side: int = IMAGE_SIDE,
) -> Path:
    """Write an image preview: ``log``/``asinh`` uint8 planes, ``factor``, ``crval``/``crpix``/``cdelt``, ``shape``."""
    path = Path(path)
    factor, planes = image_planes(count, max_side)
    tmp = path.with_name(f".{path.name}.partial.npz")
    np.savez(tmp, factor=np.int64(factor), crval=np.asarray(crval, float), crpix=np.asarray(crpix, float),
             cdelt=np.asarray(cdelt, float), shape=np.asarray(count.shape, np.int64), **planes)  # fmt: skip
    os.replace(tmp, path)
    return path


def read_image_preview(path: str | os.PathLike) -> dict:
    """What :func:`write_image_preview` wrote, as a dict of arrays and numbers."""
    with np.load(path) as data:
        return {
            "factor": int(data["factor"]), "crval": tuple(data["crval"]), "crpix": tuple(data["crpix"]),
            "cdelt": tuple(data["cdelt"]), "shape": tuple(int(v) for v in data["shape"]),
            **{kind: data[kind] for kind in STRETCHES},
        }  # fmt: skip


class MoviePreview:
    """Collect block-summed frames during the movie pass, write the uint8 preview at the end.

    Frames wait in an unlinked temporary file (float32, ~100 kB each), so memory does not grow
    with the number of frames; :meth:`write` reads them twice (white point, then quantisation).
    """

    def __init__(self, frame_shape: tuple[int, int], directory: str | os.PathLike, max_side: int = FRAME_SIDE):
        self.factor = display_factor(frame_shape, max_side)
        self.shape = block_sum(np.zeros(frame_shape, np.float32), self.factor).shape
        self._spool = tempfile.TemporaryFile(dir=directory, prefix=".movie-preview-")  # noqa: SIM115 - closed in write()
        self.n_frames = 0

    def add(self, count: np.ndarray) -> None:
        """Append the next frame (counts, shape ``frame_shape``)."""
        self._spool.write(np.ascontiguousarray(block_sum(count, self.factor), np.float32).tobytes())
        self.n_frames += 1

    def _frames(self, batch: int = 64):
        self._spool.seek(0)
        size = self.shape[0] * self.shape[1]
        for start in range(0, self.n_frames, batch):
            n = min(batch, self.n_frames - start)
            data = np.frombuffer(self._spool.read(4 * size * n), np.float32).reshape(n, *self.shape)
            yield start, stretch(data, "log")

    def write(self, path: str | os.PathLike) -> Path:
        """Write ``(n_frames, ny, nx)`` uint8 (log stretch, one white point) as ``.npy``; close."""
        path = Path(path)
        try:
            samples = [s.reshape(-1)[:: max(1, s.size * self.n_frames // _SAMPLE)] for _, s in self._frames()]
            high = white_point(np.concatenate(samples)) if samples else 1.0
            tmp = path.with_name(f".{path.name}.partial.npy")
            out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=(self.n_frames, *self.shape))
            for start, values in self._frames():
                out[start : start + len(values)] = quantise(values, high)
            out.flush()
            del out
            os.replace(tmp, path)
        finally:
            self._spool.close()
        return path

    def close(self) -> None:
        self._spool.close()


def read_movie_frames(path: str | os.PathLike, start: int, count: int) -> tuple[int, np.ndarray]:
    """``(n_frames, frames[start:start+count])`` of a movie preview, read through a memory map."""
    frames = np.load(path, mmap_mode="r")
    return int(frames.shape[0]), np.array(frames[max(0, start) : max(0, start) + max(0, count)])
