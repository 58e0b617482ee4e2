"""Pass 1 of the photon-list stage: inflate and decode the raw6 file, find the stims, park
the events for pass 2."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..aspect import AspectSolution
from ..constants import (
    POST_CSP_STIM_MARGIN,
    PRE_CSP_STIM_MARGIN,
    band_constants,
    is_post_csp,
)
from ..errors import GalexError, ReductionCancelled
from ..raw6 import Raw6Reader, center_and_scale, decode_columns
from ..stims import StimSample, find_stims
from .legs import EventOrder

ProgressFn = Callable[[int, int, str], None]
CancelFn = Callable[[], bool]


def check_cancel(should_cancel: CancelFn | None, where: str) -> None:
    if should_cancel is not None and should_cancel():
        raise ReductionCancelled(f"reduction cancelled during {where}")


def report_progress(on_progress: ProgressFn | None, done: int, total: int, stage: str) -> None:
    if on_progress is not None:
        on_progress(int(done), int(total), stage)


def decode_chunk(phb, bc):
    fields = decode_columns(phb)
    x, y, ya = center_and_scale(fields, bc)
    fields["ya"] = ya
    return fields, x, y


def _bytes_of(array: np.ndarray) -> np.ndarray:
    """Flat uint8 view of a C-contiguous array (no copy), for file writes and readinto."""
    return array.reshape(-1).view(np.uint8)


SPILL_MEMORY_BYTES = 256 << 20  # events kept in memory between the passes (20 M events)


class Spill:
    """Decoded raw6 columns parked between the two passes, in memory up to a cap.

    The first ``memory_bytes`` worth of chunks stay in memory as they are (13 bytes per
    event); the rest go to an unlinked temporary file in ``directory``, per chunk t
    (float64) then phb (shape (5, m)) in native byte order. The page cache usually keeps
    that file, so reading it back costs a copy, not a second inflate; either way memory
    stays bounded by the cap and the chunk size, however long the eclipse.
    """

    def __init__(self, directory: Path, memory_bytes: int = SPILL_MEMORY_BYTES):
        self._directory = directory
        self._room = memory_bytes
        self._file = None
        self._chunks: list[tuple[np.ndarray, np.ndarray] | tuple[int, np.dtype]] = []

    def __enter__(self) -> Spill:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def write(self, t: np.ndarray, phb: np.ndarray) -> None:
        """Park one chunk (the arrays are kept, not copied, while there is room)."""
        size = t.nbytes + phb.nbytes
        if size <= self._room:
            self._room -= size
            self._chunks.append((t, phb))
            return
        if self._file is None:
            # Lives as long as the spill; closed (and so deleted) by close().
            self._file = tempfile.TemporaryFile(dir=self._directory, prefix=".raw6-spill-")  # noqa: SIM115
        for array in (t, phb):
            self._file.write(_bytes_of(np.ascontiguousarray(array)))
        self._chunks.append((len(t), phb.dtype))

    def _fill(self, array: np.ndarray) -> np.ndarray:
        view = _bytes_of(array)
        if self._file.readinto(view) != len(view):
            raise GalexError(f"temporary event file {self._file.name} was cut short")
        return array

    def chunks(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield the ``(t, phb)`` chunks in the order they were written."""
        if self._file is not None:
            self._file.flush()
            self._file.seek(0)
        for t, phb in self._chunks:
            if isinstance(t, np.ndarray):
                yield t, phb
            else:
                yield self._fill(np.empty(t, np.float64)), self._fill(np.empty((5, t), phb))

    def close(self) -> None:
        self._chunks.clear()
        if self._file is not None:
            self._file.close()


@dataclass(frozen=True)
class PhotonListJob:
    """What :func:`make_photonlists` was asked for, once checked: one raw6 file and band."""

    raw6_path: str | os.PathLike
    asp: AspectSolution
    out_dir: Path
    band: str
    eclipse: int
    cal_dir: str | os.PathLike
    chunk_size: int
    extended: bool = False
    on_progress: ProgressFn | None = None
    should_cancel: CancelFn | None = None


def _stim_finder(job: PhotonListJob) -> Callable[[np.ndarray, np.ndarray], StimSample]:
    """The stim events of one chunk of times ``t`` and photon bytes ``phb``."""
    bc = band_constants(job.band, job.eclipse)
    margin = POST_CSP_STIM_MARGIN if is_post_csp(job.eclipse) else PRE_CSP_STIM_MARGIN

    def stims_of(t, phb):
        fields, x, y = decode_chunk(phb, bc)
        ids = find_stims(x, y, job.band, job.eclipse, margin)
        sel = ids > 0
        return StimSample(t[sel], x[sel], y[sel], ids[sel], fields["ya"][sel], fields["yb"][sel],
                          fields["yamc"][sel])  # fmt: skip

    return stims_of


def collect_stims(
    job: PhotonListJob,
    *,
    spill: Spill | None = None,
    order: EventOrder | None = None,
    pool: Executor | None = None,
) -> tuple[StimSample, int]:
    """Pass 1: stim events of the whole file. Returns (StimSample, n).

    With ``spill``, every chunk's time and photon bytes are also parked there for pass 2;
    with ``order``, the event order the legs need is recorded there. Events need not be
    time-sorted (stims are sorted before the separation fit).
    """
    stims_of = _stim_finder(job)
    parts, last_t, done = [], -np.inf, 0
    with Raw6Reader(job.raw6_path) as reader:
        total = reader.header.n_events
        for t, phb in reader.columns(job.chunk_size):
            check_cancel(job.should_cancel, "decode")
            if order is not None and len(t):
                order.note(t, done, last_t, job.asp)
            if spill is not None:
                spill.write(t, phb)
            # with a pool, this chunk is decoded while the next one is inflated
            parts.append(pool.submit(stims_of, t, phb) if pool is not None else stims_of(t, phb))
            last_t = t[-1] if len(t) else last_t
            done += len(t)
            report_progress(job.on_progress, done, total, "decode")
    parts = [part.result() if isinstance(part, Future) else part for part in parts]
    return StimSample.concatenate(parts), total
