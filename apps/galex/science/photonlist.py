"""raw6 -> calibrated, aspect-corrected photon lists (one Parquet file per leg), in chunks.

Two streaming passes keep memory bounded by the chunk size and a fixed cap, not the
eclipse length; the gzip raw6 file is inflated only once:

1. *decode*: inflate the raw6 file, find the stim events (a few per hundred events), note
   where each leg's rows end and whether the events are time-sorted, and park the events'
   time and photon bytes (13 bytes per event): in memory up to ``SPILL_MEMORY_BYTES``
   (256 MiB, 20 M events), beyond that in an unlinked temporary file beside the products;
2. *calibrate / aspect / photon list*: take the parked events back chunk by chunk; per
   slice of ``_CACHE_ROWS`` events the fused on-detector corrections and detector response,
   then the aspect solution; each chunk of a leg is one row group of its Parquet file.

Photon lists are written with required (non-null) columns and no compression on the
float columns that do not compress (ra, dec, col, row, detrad, response); t, flags and mask
are snappy-compressed; every column has min/max statistics (see ``PARQUET_OPTIONS``).

Photon-list schema (gPhoton 2 ``PIPELINE_VARIABLES``): t f8, ra f8, dec f8, flags u1,
col f4, row f4, detrad f4, mask bool, response f4; ``extended=True`` adds q and ya (i2).
Events outside every leg's aspect coverage are dropped, as in gPhoton 2 (which also drops
the last photon of each leg by an exclusive slice; we keep it). Legs are cut by file
position as gPhoton 2 ``chunk_by_legs`` cuts them, so a raw6 file whose times are not
sorted keeps the same events per leg as in gPhoton 2; those photon lists are then sorted
by time (gPhoton 2 keeps file order; its images, movies and exposure times do not depend
on the order, ours are made in one streaming pass that needs it).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from numba import njit

from . import calibration as calib
from .aspect import AspectSolution, apply_aspect, read_aspect
from .constants import (
    FLAG_GHOST,
    ON_DETECTOR_RADIUS,
    POST_CSP_STIM_COEFFICIENTS,
    POST_CSP_STIM_MARGIN,
    PRE_CSP_STIM_MARGIN,
    band_constants,
    check_eclipse,
    file_prefix,
    is_post_csp,
    normalize_band,
)
from .errors import BandMismatch, EmptyLeg, GalexError, ReductionCancelled
from .raw6 import Raw6Reader, center_and_scale, decode_columns
from .stims import StimSample, find_stims, fit_stim_coefficients, post_csp_stimstats

_CACHE_ROWS = 131_072  # events calibrated at once: their intermediates fit in L2/L3
ProgressFn = Callable[[int, int, str], None]
CancelFn = Callable[[], bool]

PHOTONLIST_FIELDS = [
    ("t", pa.float64()), ("ra", pa.float64()), ("dec", pa.float64()), ("flags", pa.uint8()),
    ("col", pa.float32()), ("row", pa.float32()), ("detrad", pa.float32()),
    ("mask", pa.bool_()), ("response", pa.float32()),
]  # fmt: skip
EXTENDED_FIELDS = [("q", pa.int16()), ("ya", pa.int16())]


# No column of a photon list is ever null (ra/dec are NaN where the aspect step fails), so
# the columns are required: Parquet then stores no definition levels, which were a third of
# the write time. Compression only where it pays: t (quantised times repeat 16x), flags and
# mask; the other floats are incompressible; plain flags compress as well as a dictionary
# would. Together 2x faster than snappy on all. Min/max statistics on every column: gPhoton 2
# reads row group 0's (``get_parquet_stats``: t min for burst names, flags min and ra max to
# skip legs with no usable events) and cannot open a photon list without them.
PARQUET_OPTIONS = {
    "compression": {"t": "snappy", "flags": "snappy", "mask": "snappy"},
    "use_dictionary": False,
    "write_statistics": True,
}


def _writer_options(schema: pa.Schema) -> dict:
    codecs = PARQUET_OPTIONS["compression"]
    return {**PARQUET_OPTIONS, "compression": {n: codecs.get(n, "none") for n in schema.names}}


def photonlist_schema(extended: bool = False) -> pa.Schema:
    """Arrow schema of a photon list (gPhoton 2 column names and types, all non-null)."""
    fields = PHOTONLIST_FIELDS + (EXTENDED_FIELDS if extended else [])
    return pa.schema([pa.field(name, dtype, nullable=False) for name, dtype in fields])


def photonlist_stats(path: str | os.PathLike, columns: list[str], row_group: int = 0) -> dict[str, dict]:
    """Min/max statistics of ``columns`` in one row group, read the way gPhoton 2 reads them
    (``parquet_utils.get_parquet_stats``: the metadata's ``to_dict()``)."""
    group = pq.read_metadata(path).row_group(row_group)
    return {c["path_in_schema"]: c["statistics"] for c in group.to_dict()["columns"] if c["path_in_schema"] in columns}


def photonlist_start_time(path: str | os.PathLike) -> float | None:
    """gPhoton 2's ``ctx.start_time``: the t minimum of row group 0 of (leg 0's) photon list."""
    stats = photonlist_stats(path, ["t"]).get("t") or {}
    return None if stats.get("min") is None else float(stats["min"])


def photonlist_name(eclipse: int, band: str, leg: int) -> str:
    """gPhoton 2 name, e.g. ``e23456-nd-b00.parquet``."""
    return f"{file_prefix(eclipse, band)}-b{leg:02d}.parquet"


@njit(cache=True, nogil=True)
def _leg_stats_kernel(t, ra, dec, flags, detrad, radius):
    # Flag histogram, and min/max of t, ra, ra wrapped to (-180, 180], dec over on-image
    # events (finite ra, detrad < radius); bounds are (+inf, -inf) pairs when there are none.
    counts = np.zeros(256, np.int64)
    bounds = np.empty(8)
    bounds[0::2] = np.inf
    bounds[1::2] = -np.inf
    n_on = 0
    for i in range(t.shape[0]):
        counts[flags[i]] += 1
        if not (np.isfinite(ra[i]) and detrad[i] < radius):
            continue
        n_on += 1
        r = ra[i]
        w = r - 360.0 if r > 180.0 else r
        for k, v in enumerate((t[i], r, w, dec[i])):
            bounds[2 * k] = min(bounds[2 * k], v)
            bounds[2 * k + 1] = max(bounds[2 * k + 1], v)
    return counts, n_on, bounds


def leg_stats_reference(t, ra, dec, flags, detrad, radius):
    """Slow, obvious twin of ``_leg_stats_kernel`` (numpy masks and reductions)."""
    counts = np.bincount(flags, minlength=256).astype(np.int64)
    on = np.isfinite(ra) & (detrad < radius)
    bounds = np.array([np.inf, -np.inf] * 4)
    if on.any():
        r = ra[on]
        for k, v in enumerate((t[on], r, np.where(r > 180, r - 360, r), dec[on])):
            bounds[2 * k], bounds[2 * k + 1] = v.min(), v.max()
    return counts, int(on.sum()), bounds


@dataclass
class LegStats:
    """What the photon-list pass learned about one leg."""

    leg: int
    path: Path
    n_events: int = 0
    n_flag: dict[int, int] = field(default_factory=dict)
    t_min: float = np.inf  # of events on the image (finite ra, detrad < 400)
    t_max: float = -np.inf
    ra_bounds: list[float] = field(default_factory=lambda: [np.inf, -np.inf])
    ra_bounds_wrapped: list[float] = field(default_factory=lambda: [np.inf, -np.inf])
    dec_bounds: list[float] = field(default_factory=lambda: [np.inf, -np.inf])
    n_on_image: int = 0

    def update(self, t, ra, dec, flags, detrad) -> None:
        """Fold one chunk in: flag counts, and time/sky bounds of its on-image events."""
        counts, n_on, bounds = _leg_stats_kernel(t, ra, dec, flags, detrad, ON_DETECTOR_RADIUS)
        self.n_events += len(t)
        for value in np.nonzero(counts)[0]:
            self.n_flag[int(value)] = self.n_flag.get(int(value), 0) + int(counts[value])
        if not n_on:
            return
        self.n_on_image += int(n_on)
        self.t_min, self.t_max = min(self.t_min, bounds[0]), max(self.t_max, bounds[1])
        for k, acc in enumerate((self.ra_bounds, self.ra_bounds_wrapped, self.dec_bounds)):
            acc[0], acc[1] = min(acc[0], bounds[2 + 2 * k]), max(acc[1], bounds[3 + 2 * k])

    def sky_bounds(self) -> tuple[float, float, float, float] | None:
        """(ra_min, ra_max, dec_min, dec_max) of on-image events; RA unwrapped near 0/360."""
        if not self.n_on_image:
            return None
        ra = (
            self.ra_bounds
            if self.ra_bounds[1] - self.ra_bounds[0] <= 350
            else self.ra_bounds_wrapped
        )
        return ra[0], ra[1], self.dec_bounds[0], self.dec_bounds[1]


@dataclass
class PhotonListResult:
    """Products and bookkeeping of :func:`make_photonlists`."""

    eclipse: int
    band: str
    legs: list[LegStats]
    n_events: int
    n_kept: int
    n_stims: int
    stim_coefficients: tuple[float, float]
    aspect: AspectSolution
    provenance: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def paths(self) -> list[Path]:
        return [leg.path for leg in self.legs]


@contextmanager
def _pool(threads: int) -> Iterator[Executor | None]:
    """A thread pool of ``threads`` workers, or None for one thread (everything inline)."""
    if threads <= 1:
        yield None
        return
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="galex") as pool:
        yield pool


def _check_cancel(should_cancel: CancelFn | None, where: str) -> None:
    if should_cancel is not None and should_cancel():
        raise ReductionCancelled(f"reduction cancelled during {where}")


def _report(on_progress: ProgressFn | None, done: int, total: int, stage: str) -> None:
    if on_progress is not None:
        on_progress(int(done), int(total), stage)


def _decode_chunk(phb, bc):
    fields = decode_columns(phb)
    x, y, ya = center_and_scale(fields, bc)
    fields["ya"] = ya
    return fields, x, y


def _bytes_of(array: np.ndarray) -> np.ndarray:
    """Flat uint8 view of a C-contiguous array (no copy), for file writes and readinto."""
    return array.reshape(-1).view(np.uint8)


SPILL_MEMORY_BYTES = 256 << 20  # events kept in memory between the passes (20 M events)


class _Spill:
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

    def __enter__(self) -> _Spill:
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


@dataclass
class EventOrder:
    """What pass 1 learned about the order of the events (for :class:`_LegRouter`).

    ``last_row[k]`` is the last file row whose time is at or before leg ``k``'s last aspect
    time (-1 if none); ``n_backwards`` counts events earlier than the one before them.
    """

    last_row: dict[int, int] = field(default_factory=dict)
    n_backwards: int = 0

    @property
    def time_sorted(self) -> bool:
        return self.n_backwards == 0


def collect_stims(
    raw6_path, band: str, eclipse: int, chunk_size: int, on_progress=None, should_cancel=None,
    spill: _Spill | None = None, asp: AspectSolution | None = None, order: EventOrder | None = None,
    pool: Executor | None = None,
):  # fmt: skip
    """Pass 1: stim events of the whole file. Returns (StimSample, n).

    With ``spill``, every chunk's time and photon bytes are also parked there for pass 2;
    with ``asp`` and ``order``, the event order the legs need is recorded in ``order``.
    Events need not be time-sorted (stims are sorted before the separation fit).
    """
    bc = band_constants(band, eclipse)
    margin = POST_CSP_STIM_MARGIN if is_post_csp(eclipse) else PRE_CSP_STIM_MARGIN

    def stims_of(t, phb):
        fields, x, y = _decode_chunk(phb, bc)
        ids = find_stims(x, y, band, eclipse, margin)
        sel = ids > 0
        return StimSample(t[sel], x[sel], y[sel], ids[sel], fields["ya"][sel], fields["yb"][sel],
                          fields["yamc"][sel])  # fmt: skip

    parts, last_t, done = [], -np.inf, 0
    with Raw6Reader(raw6_path) as reader:
        total = reader.header.n_events
        for t, phb in reader.columns(chunk_size):
            _check_cancel(should_cancel, "decode")
            if order is not None and len(t):
                order.n_backwards += int(t[0] < last_t) + int(np.count_nonzero(np.diff(t) < 0))
                for leg in asp.legs:
                    rows = np.flatnonzero(t <= leg.t_stop)
                    if len(rows):
                        order.last_row[leg.index] = done + int(rows[-1])
            if spill is not None:
                spill.write(t, phb)
            # with a pool, this chunk is decoded while the next one is inflated
            parts.append(pool.submit(stims_of, t, phb) if pool is not None else stims_of(t, phb))
            last_t = t[-1] if len(t) else last_t
            done += len(t)
            _report(on_progress, done, total, "decode")
    parts = [part.result() if isinstance(part, Future) else part for part in parts]
    return StimSample.concatenate(parts), total


class _LegRouter:
    """Which file rows belong to which leg, chunk by chunk, as gPhoton 2 ``chunk_by_legs``.

    Leg ``k`` holds the rows from the first row at or after the previous leg's end whose time
    is at or after the leg's first aspect time, to the last row whose time is at or before its
    last aspect time (gPhoton 2 drops that last row by an exclusive slice; we keep it). Rows
    are taken by position in the file, so time-sorted files give the same legs as a time
    search, and an unsorted file gives the legs gPhoton 2 gives it.
    """

    def __init__(self, asp: AspectSolution, order: EventOrder):
        self._legs = list(asp.legs)
        self._last = [order.last_row.get(leg.index, -1) for leg in self._legs]
        self._k = 0
        self._start = 0  # first row the current leg may begin at
        self._first: int | None = None  # the current leg's first row, once found

    def slices(self, t: np.ndarray, offset: int) -> list[tuple[int, slice]]:
        """``(leg index, slice of this chunk)`` pieces of the chunk of rows ``offset..``."""
        out, end = [], offset + len(t)
        while self._k < len(self._legs):
            leg, last = self._legs[self._k], self._last[self._k]
            if last < self._start:  # no row for this leg after the previous one
                self._next_leg(self._start)
                continue
            if self._first is None:
                lo = max(self._start, offset)
                if lo >= end:
                    break
                hits = np.flatnonzero(t[lo - offset :] >= leg.t_start)
                if not len(hits) or lo + int(hits[0]) > last:
                    if last < end:  # the leg ends in this chunk without a first row: empty
                        self._next_leg(last + 1)
                        continue
                    break
                self._first = lo + int(hits[0])
            lo, hi = max(self._first, offset), min(last + 1, end)
            if hi > lo:
                out.append((leg.index, slice(lo - offset, hi - offset)))
            if last < end:
                self._next_leg(last + 1)
                continue
            break
        return out

    def _next_leg(self, start: int) -> None:
        self._k, self._start, self._first = self._k + 1, start, None


def _leg_slices(t: np.ndarray, asp: AspectSolution) -> list[tuple[int, slice]]:
    """Slow, obvious twin of :class:`_LegRouter` for time-sorted events (one chunk)."""
    out = []
    for leg in asp.legs:
        lo = int(np.searchsorted(t, leg.t_start, side="left"))
        hi = int(np.searchsorted(t, leg.t_stop, side="right"))
        if hi > lo:
            out.append((leg.index, slice(lo, hi)))
    return out


def sort_photonlist(path: Path, schema: pa.Schema) -> None:
    """Rewrite a photon list in time order (stable), for a raw6 file whose events were not.

    Holds the whole leg in memory, as gPhoton 2 always does; only unsorted files need it.
    """
    table = pq.read_table(path)
    order = np.argsort(table["t"].to_numpy(), kind="stable")
    pq.write_table(table.take(pa.array(order)).cast(schema), path, **_writer_options(schema))


class _Calibrator:
    """Holds everything pass 2 needs and turns one raw chunk into photon-list columns."""

    def __init__(self, band, eclipse, cal, stim_coefficients, offsets, yac, post_tables, extended):
        self.bc = band_constants(band, eclipse)
        self.cal, self.stim_coefficients, self.offsets = cal, stim_coefficients, offsets
        self.yac, self.post_tables, self.extended = yac, post_tables, extended

    def __call__(self, t, phb, asp):
        """Photon-list columns of events ``t`` (shape (m,)) with bytes ``phb`` (shape (5, m))."""
        fields, x, y = _decode_chunk(phb, self.bc)
        if self.yac is not None:
            x, y = calib.apply_yac_correction(fields, x, y, self.yac, self.post_tables)
        det = calib.apply_detector_chain(
            x, y, fields["xa"], fields["ya"], fields["q"], t, self.cal, self.bc,
            self.stim_coefficients, self.offsets,
        )  # fmt: skip
        ra, dec, flags = apply_aspect(t, det.xi, det.eta, det.flags, asp)
        cols = {
            "t": t, "ra": ra, "dec": dec, "flags": flags, "col": det.col, "row": det.row,
            "detrad": det.detrad, "mask": det.mask, "response": det.response,
        }  # fmt: skip
        if self.extended or self.yac is not None:
            cols["ya"] = fields["ya"]
        if self.extended:
            cols["q"] = fields["q"]
        return cols


def make_photonlists(
    raw6_path: str | os.PathLike,
    aspect: AspectSolution | str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    band: str,
    cal_dir: str | os.PathLike,
    chunk_size: int = 500_000,
    extended: bool = False,
    on_progress: ProgressFn | None = None,
    should_cancel: CancelFn | None = None,
    threads: int = 1,
) -> PhotonListResult:
    """Reduce a raw6 file to one calibrated photon list per leg.

    Parameters
    ----------
    raw6_path : path-like
        gzip FITS raw6 file (see :mod:`.raw6`).
    aspect : AspectSolution or path-like
        The eclipse's aspect solution, or the folder/``aspect.parquet`` to read it from.
    out_dir : path-like
        Where ``e{eclipse}-{n|f}d-b{leg}.parquet`` files go (written atomically).
    band : {"NUV", "FUV"}
        Must match the raw6 header, else :class:`BandMismatch`.
    cal_dir : path-like
        gPhoton 2 calibration folder.
    chunk_size : int
        Events per chunk; memory scales with this, not with the file.
    extended : bool
        Also write q and ya.
    on_progress : callable(done, total, stage), optional
        Called after each chunk with stage "decode", "calibrate", "aspect", "photon list".
    should_cancel : callable() -> bool, optional
        Checked between chunks; True raises :class:`ReductionCancelled`.
    threads : int
        Worker threads: a chunk is decoded while the next is inflated, and the cache-sized slices
        of a chunk are calibrated side by side (the numba kernels release the GIL). The photon
        lists are the same whatever the number.
    """
    band = normalize_band(band)
    if threads < 1:
        raise GalexError(f"threads must be at least 1, got {threads}")
    if chunk_size < 1:
        raise GalexError(f"chunk_size must be positive, got {chunk_size}")
    with Raw6Reader(raw6_path) as reader:
        header = reader.header
    if header.band != band:
        raise BandMismatch(
            f"raw6 file {raw6_path} holds {header.band} events but {band} was requested"
        )
    eclipse = header.eclipse
    check_eclipse(eclipse)
    asp = aspect if isinstance(aspect, AspectSolution) else read_aspect(aspect, eclipse)
    if asp.eclipse != eclipse:
        raise GalexError(f"aspect solution is for eclipse {asp.eclipse}, raw6 file for {eclipse}")
    warnings = list(asp.warnings)

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    order = EventOrder()
    with _Spill(out_dir, SPILL_MEMORY_BYTES) as spill, _pool(threads) as pool:
        stims, total = collect_stims(raw6_path, band, eclipse, chunk_size, on_progress,
                                     should_cancel, spill, asp, order, pool)  # fmt: skip
        if not order.time_sorted:
            warnings.append(
                f"raw6 events are not time-sorted ({order.n_backwards} go back in time): legs "
                "taken by file position as gPhoton 2 does, photon lists then sorted by time"
            )
        return _calibrate_pass(raw6_path, asp, out_dir, band, eclipse, cal_dir, extended, chunk_size,
                               stims, total, spill, warnings, on_progress, should_cancel, order, pool)  # fmt: skip


def _calibrate_pass(raw6_path, asp, out_dir, band, eclipse, cal_dir, extended, chunk_size, stims,
                    total, spill, warnings, on_progress, should_cancel, order, pool=None) -> PhotonListResult:  # fmt: skip
    """Pass 2 of :func:`make_photonlists`: calibrate the parked events, write the legs."""
    yac = post_tables = None
    stimsep = 0.0
    if is_post_csp(eclipse):
        stim_coefficients = POST_CSP_STIM_COEFFICIENTS
        yac = post_csp_stimstats(stims, band)
        post_tables = calib.load_post_csp_tables(cal_dir)
        stimsep = yac.stimsep
    else:
        stim_coefficients = fit_stim_coefficients(stims)
    cal = calib.load_calibration(cal_dir, band, eclipse, stimsep)
    warnings += cal.warnings
    offsets = (0.0, 0.0)
    if band == "FUV":
        offsets = calib.fuv_offsets(cal_dir, eclipse, asp.metadata.get("fuv_tdc_temp"))
    calibrate = _Calibrator(
        band, eclipse, cal, stim_coefficients, offsets, yac, post_tables, extended
    )

    schema = photonlist_schema(extended)
    if yac is not None and not extended:
        schema = schema.append(pa.field("ya", pa.int16(), nullable=False))
    options = _writer_options(schema)
    stats = {
        leg.index: LegStats(leg.index, out_dir / photonlist_name(eclipse, band, leg.index))
        for leg in asp.legs
    }
    tmp = {k: s.path.with_name(f".{s.path.name}.partial") for k, s in stats.items()}
    writers: dict[int, pq.ParquetWriter] = {}
    router = _LegRouter(asp, order)
    try:
        done = kept = 0
        for t, phb in spill.chunks():
            _check_cancel(should_cancel, "calibration")
            for leg_index, sl in router.slices(t, done):
                # Calibrate in slices small enough for the intermediates to stay in cache;
                # the slices of one chunk and leg still make one row group.
                batches = []
                parts = [slice(lo, min(lo + _CACHE_ROWS, sl.stop)) for lo in range(sl.start, sl.stop, _CACHE_ROWS)]
                if pool is not None and len(parts) > 1:  # side by side, results in order
                    calibrated = pool.map(calibrate, [t[p] for p in parts], [phb[:, p] for p in parts],
                                          [asp] * len(parts))  # fmt: skip
                else:
                    calibrated = (calibrate(t[part], phb[:, part], asp) for part in parts)
                for cols in calibrated:
                    stats[leg_index].update(
                        cols["t"], cols["ra"], cols["dec"], cols["flags"], cols["detrad"]
                    )
                    batches.append(pa.record_batch([cols[f.name] for f in schema], schema=schema))
                    kept += len(cols["t"])
                if leg_index not in writers:
                    writers[leg_index] = pq.ParquetWriter(tmp[leg_index], schema, **options)
                writers[leg_index].write_table(pa.Table.from_batches(batches, schema=schema))
            done += len(t)
            for stage in ("calibrate", "aspect", "photon list"):
                _report(on_progress, done, total, stage)
        for writer in writers.values():
            writer.close()
        writers.clear()
        for k, s in stats.items():
            if s.n_events == 0:
                leg = asp.legs[[lg.index for lg in asp.legs].index(k)]
                raise EmptyLeg(
                    f"eclipse {eclipse} leg {k} (t {leg.t_start:.1f}-{leg.t_stop:.1f}) "
                    f"contains no photon events in {raw6_path}"
                )
        if not order.time_sorted:
            for k in stats:
                sort_photonlist(tmp[k], schema)
        if yac is not None:
            for k in stats:
                flag_ghosts_in_file(tmp[k], schema)
        for k, s in stats.items():
            os.replace(tmp[k], s.path)
    finally:
        for writer in writers.values():
            writer.close()
        for path in tmp.values():
            path.unlink(missing_ok=True)

    provenance = {
        "raw6": str(raw6_path), "aspect": asp.source, "eclipse": eclipse, "band": band,
        "post_csp": is_post_csp(eclipse), "stim_coefficients": list(stim_coefficients),
        "n_stim_events": len(stims.t), "fuv_offsets_arcsec": list(offsets),
        "calibration": dict(cal.provenance), "chunk_size": chunk_size,
    }  # fmt: skip
    return PhotonListResult(eclipse, band, [stats[k] for k in sorted(stats)], total, kept,
                            len(stims.t), tuple(stim_coefficients), asp, provenance, warnings)  # fmt: skip


# --------------------------------------------------------------------------------------
# Post-CSP ghosts
# --------------------------------------------------------------------------------------
def flag_ghosts(ra, dec, ya, col, row, flags, n_bins: int = 1600) -> np.ndarray:
    """Post-CSP ghost flag (gPhoton 2 ``flag_ghosts``): sky bins with mean ya < 6 and > 15 events.

    Parameters
    ----------
    ra, dec : float64 (deg); ya : int; col, row : detector pixels; flags : uint8; all shape (n,).
    n_bins : bins per axis over the ra/dec range of valid events.

    Returns
    -------
    uint8 flags with 120 for events in ghost bins.
    """
    flags = flags.copy()
    valid = (
        (col >= 0) & (col <= 800) & (row >= 0) & (row <= 800) & np.isfinite(ra) & np.isfinite(dec)
    )
    if not valid.any():
        return flags
    rv, dv, yv = ra[valid], dec[valid], ya[valid].astype(np.float64)
    ra_min, ra_max, dec_min, dec_max = rv.min(), rv.max(), dv.min(), dv.max()
    if ra_max == ra_min or dec_max == dec_min:
        return flags
    counts, _, _ = np.histogram2d(rv, dv, bins=n_bins, range=[[ra_min, ra_max], [dec_min, dec_max]])
    sums, _, _ = np.histogram2d(
        rv, dv, bins=n_bins, range=[[ra_min, ra_max], [dec_min, dec_max]], weights=yv
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        ghost_bins = (sums / counts < 6) & (counts > 15)
    ra_ix = (ra - ra_min) / ((ra_max - ra_min) / n_bins)
    dec_ix = (dec - dec_min) / ((dec_max - dec_min) / n_bins)
    ok = np.isfinite(ra_ix) & np.isfinite(dec_ix)
    ok[ok] &= (ra_ix[ok] >= 0) & (ra_ix[ok] < n_bins) & (dec_ix[ok] >= 0) & (dec_ix[ok] < n_bins)
    hit = np.zeros(len(flags), bool)
    hit[ok] = ghost_bins[ra_ix[ok].astype(int), dec_ix[ok].astype(int)]
    flags[hit] = FLAG_GHOST
    return flags


def flag_ghosts_in_file(path: Path, schema: pa.Schema) -> None:
    """Rewrite a post-CSP photon list with ghost flags (needs the whole leg's ra/dec/ya)."""
    table = pq.read_table(path)
    cols = {c: table[c].to_numpy() for c in ("ra", "dec", "ya", "col", "row", "flags")}
    flags = flag_ghosts(
        cols["ra"], cols["dec"], cols["ya"], cols["col"], cols["row"], cols["flags"]
    )
    table = table.set_column(
        schema.get_field_index("flags"), schema.field("flags"), pa.array(flags, pa.uint8())
    )
    pq.write_table(table.cast(schema), path, **_writer_options(schema))
