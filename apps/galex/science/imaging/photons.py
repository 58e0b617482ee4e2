"""Reading photon lists in row batches, and which events land on the image with what weight."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from ..constants import (
    ON_DETECTOR_RADIUS,
)
from ..errors import EmptyLeg, ProductError

IMAGE_COLUMNS = ["t", "ra", "dec", "flags", "col", "row", "detrad", "mask", "response"]


# --------------------------------------------------------------------------------------
# Reading photon lists in batches
# --------------------------------------------------------------------------------------
def iter_photons(
    path: Path, columns: list[str], batch_rows: int = 500_000
) -> Iterator[dict[str, np.ndarray]]:
    """Yield dicts of column arrays from a photon list, ``batch_rows`` rows at a time."""
    try:
        # pre_buffer would prefetch whole column chunks: 5x the memory for no gain here.
        pf = pq.ParquetFile(path, pre_buffer=False, buffer_size=1 << 20)
    except (OSError, ValueError) as exc:
        raise ProductError(f"photon list {path} cannot be read: {exc}") from exc
    for batch in pf.iter_batches(batch_size=batch_rows, columns=columns):
        yield {name: batch.column(name).to_numpy(zero_copy_only=False) for name in columns}


@dataclass
class PhotonScan:
    """Time range and sky bounds of the on-image events of a photon list."""

    t_min: float
    t_max: float
    bounds: tuple[float, float, float, float]
    n_on_image: int


def scan_photonlist(path: Path, batch_rows: int = 500_000) -> PhotonScan:
    """One pass over (t, ra, dec, detrad) to find what :func:`make_image` needs."""
    t_min, t_max, n = np.inf, -np.inf, 0
    lo, hi = np.array([np.inf, np.inf, np.inf]), np.array([-np.inf, -np.inf, -np.inf])
    for b in iter_photons(path, ["t", "ra", "dec", "detrad"], batch_rows):
        on = np.isfinite(b["ra"]) & np.isfinite(b["detrad"]) & (b["detrad"] < ON_DETECTOR_RADIUS)
        if not on.any():
            continue
        n += int(on.sum())
        ra, dec, t = b["ra"][on], b["dec"][on], b["t"][on]
        vals = np.array([[ra.min(), np.where(ra > 180, ra - 360, ra).min(), dec.min()],
                         [ra.max(), np.where(ra > 180, ra - 360, ra).max(), dec.max()]])  # fmt: skip
        lo, hi = np.minimum(lo, vals[0]), np.maximum(hi, vals[1])
        t_min, t_max = min(t_min, t.min()), max(t_max, t.max())
    if n == 0:
        raise EmptyLeg(
            f"photon list {path} has no events on the detector with a valid aspect solution"
        )
    ra_lo, ra_hi = (lo[0], hi[0]) if hi[0] - lo[0] <= 350 else (lo[1], hi[1])
    return PhotonScan(float(t_min), float(t_max), (ra_lo, ra_hi, lo[2], hi[2]), n)


def on_image(b: dict[str, np.ndarray]) -> np.ndarray:
    return np.isfinite(b["detrad"]) & (b["detrad"] < ON_DETECTOR_RADIUS) & np.isfinite(b["ra"])


def photon_weights(response: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        w = 1.0 / response.astype(np.float64)
    return np.where(np.isfinite(w) & (response > 0), w, 0.0)
