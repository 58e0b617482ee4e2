"""make_photonlists: the two passes from a raw6 file to one photon list per leg."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..aspect import AspectSolution, apply_aspect, read_aspect
from ..calibration import (
    DetectorEvents,
    DetectorSetup,
    PostCspTables,
    YacSolution,
    apply_detector_chain,
    apply_yac_correction,
    fuv_offsets,
    load_calibration,
    load_post_csp_tables,
)
from ..constants import (
    POST_CSP_STIM_COEFFICIENTS,
    band_constants,
    check_eclipse,
    is_post_csp,
    normalize_band,
)
from ..errors import BandMismatch, EmptyLeg, GalexError
from ..raw6 import Raw6Reader
from ..stims import StimSample, fit_stim_coefficients, post_csp_stimstats
from ..threads import helper_pool, run_on
from .decode import (
    SPILL_MEMORY_BYTES,
    CancelFn,
    PhotonListJob,
    ProgressFn,
    Spill,
    check_cancel,
    collect_stims,
    decode_chunk,
    report_progress,
)
from .files import (
    flag_ghosts_in_file,
    photonlist_name,
    photonlist_schema,
    sort_photonlist,
    writer_options,
)
from .legs import EventOrder, LegRouter, LegStats

_DONE = object()
CACHE_ROWS = 131_072  # events calibrated at once: their intermediates fit in L2/L3


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


@dataclass(frozen=True)
class ChunkCalibrator:
    """Holds everything pass 2 needs and turns one raw chunk into photon-list columns.

    ``yac`` and ``post_tables`` are set for post-CSP eclipses only.
    """

    setup: DetectorSetup
    yac: YacSolution | None = None
    post_tables: PostCspTables | None = None
    extended: bool = False

    def __call__(self, t, phb, asp):
        """Photon-list columns of events ``t`` (shape (m,)) with bytes ``phb`` (shape (5, m))."""
        fields, x, y = decode_chunk(phb, self.setup.bc)
        if self.yac is not None:
            x, y = apply_yac_correction(fields, x, y, self.yac, self.post_tables)
        events = DetectorEvents(x, y, fields["xa"], fields["ya"], fields["q"], t)
        det = apply_detector_chain(events, self.setup)
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


@dataclass
class _FirstPass:
    """What pass 1 hands to pass 2."""

    stims: StimSample
    n_events: int
    spill: Spill
    order: EventOrder
    warnings: list[str]


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
        gzip FITS raw6 file (see :mod:`..raw6`).
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
    _check_counts(threads, chunk_size)
    eclipse = _raw6_eclipse(raw6_path, band)
    asp = _aspect_of(aspect, eclipse)
    job = PhotonListJob(raw6_path, asp, Path(out_dir), band, eclipse, cal_dir, chunk_size,
                        extended, on_progress, should_cancel)  # fmt: skip
    job.out_dir.mkdir(parents=True, exist_ok=True)
    with Spill(job.out_dir, SPILL_MEMORY_BYTES) as spill, helper_pool(threads if threads > 1 else 0) as pool:
        first = _decode_pass(job, spill, pool)
        return _calibrate_pass(job, first, pool)


def _check_counts(threads: int, chunk_size: int) -> None:
    if threads < 1:
        raise GalexError(f"threads must be at least 1, got {threads}")
    if chunk_size < 1:
        raise GalexError(f"chunk_size must be positive, got {chunk_size}")


def _raw6_eclipse(raw6_path: str | os.PathLike, band: str) -> int:
    """The eclipse of a raw6 file, refusing one of the other band."""
    with Raw6Reader(raw6_path) as reader:
        header = reader.header
    if header.band != band:
        raise BandMismatch(
            f"raw6 file {raw6_path} holds {header.band} events but {band} was requested"
        )
    check_eclipse(header.eclipse)
    return header.eclipse


def _aspect_of(aspect: AspectSolution | str | os.PathLike, eclipse: int) -> AspectSolution:
    asp = aspect if isinstance(aspect, AspectSolution) else read_aspect(aspect, eclipse)
    if asp.eclipse != eclipse:
        raise GalexError(f"aspect solution is for eclipse {asp.eclipse}, raw6 file for {eclipse}")
    return asp


def _decode_pass(job: PhotonListJob, spill: Spill, pool: Executor | None) -> _FirstPass:
    """Pass 1: find the stims and the event order, park the events in ``spill``."""
    warnings = list(job.asp.warnings)
    order = EventOrder()
    stims, total = collect_stims(job, spill=spill, order=order, pool=pool)
    if not order.time_sorted:
        warnings.append(
            f"raw6 events are not time-sorted ({order.n_backwards} go back in time): legs "
            "taken by file position as gPhoton 2 does, photon lists then sorted by time"
        )
    return _FirstPass(stims, total, spill, order, warnings)


def _chunk_calibrator(job: PhotonListJob, stims: StimSample) -> ChunkCalibrator:
    """Calibration, stim fit (or post-CSP stim statistics) and FUV offsets of the leg set."""
    yac = post_tables = None
    stimsep = 0.0
    if is_post_csp(job.eclipse):
        stim_coefficients = POST_CSP_STIM_COEFFICIENTS
        yac = post_csp_stimstats(stims, job.band)
        post_tables = load_post_csp_tables(job.cal_dir)
        stimsep = yac.stimsep
    else:
        stim_coefficients = fit_stim_coefficients(stims)
    cal = load_calibration(job.cal_dir, job.band, job.eclipse, stimsep)
    offsets = (0.0, 0.0)
    if job.band == "FUV":
        offsets = fuv_offsets(job.cal_dir, job.eclipse, job.asp.metadata.get("fuv_tdc_temp"))
    setup = DetectorSetup(cal, band_constants(job.band, job.eclipse), stim_coefficients, offsets)
    return ChunkCalibrator(setup, yac, post_tables, job.extended)


class _LegFiles:
    """The legs' Parquet files, written under temporary names and renamed when all is done.

    Leaving the ``with`` block closes the writers and deletes whatever was not published.
    """

    def __init__(self, stats: dict[int, LegStats], schema: pa.Schema):
        self.stats, self.schema = stats, schema
        self._options = writer_options(schema)
        self._tmp = {k: s.path.with_name(f".{s.path.name}.partial") for k, s in stats.items()}
        self._writers: dict[int, pq.ParquetWriter] = {}

    def __enter__(self) -> _LegFiles:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
        for path in self._tmp.values():
            path.unlink(missing_ok=True)

    def write_groups(self, groups: list[tuple[int, list[pa.RecordBatch]]]) -> None:
        """Append one row group per (leg, batches) pair, in the order given."""
        for leg_index, batches in groups:
            self.write(leg_index, batches)

    def write(self, leg_index: int, batches: list[pa.RecordBatch]) -> None:
        """Append one row group to a leg's file."""
        if leg_index not in self._writers:
            self._writers[leg_index] = pq.ParquetWriter(self._tmp[leg_index], self.schema,
                                                        **self._options)  # fmt: skip
        self._writers[leg_index].write_table(pa.Table.from_batches(batches, schema=self.schema))

    def close(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()

    def publish(self, *, sort: bool, ghosts: bool) -> None:
        """Sort and flag ghosts where asked, then move every leg's file into place."""
        if sort:
            for k in self.stats:
                sort_photonlist(self._tmp[k], self.schema)
        if ghosts:
            for k in self.stats:
                flag_ghosts_in_file(self._tmp[k], self.schema)
        for k, s in self.stats.items():
            os.replace(self._tmp[k], s.path)


def _calibrate_pass(job: PhotonListJob, first: _FirstPass, pool: Executor | None = None) -> PhotonListResult:  # fmt: skip
    """Pass 2 of :func:`make_photonlists`: calibrate the parked events, write the legs."""
    calibrate = _chunk_calibrator(job, first.stims)
    first.warnings += calibrate.setup.cal.warnings
    post_csp = calibrate.yac is not None
    schema = photonlist_schema(job.extended)
    if post_csp and not job.extended:
        schema = schema.append(pa.field("ya", pa.int16(), nullable=False))
    stats = {
        leg.index: LegStats(leg.index, job.out_dir / photonlist_name(job.eclipse, job.band, leg.index))
        for leg in job.asp.legs
    }  # fmt: skip
    with _LegFiles(stats, schema) as files:
        kept = _write_legs(job, first, calibrate, files, pool)
        files.close()
        _refuse_empty_legs(job, stats)
        files.publish(sort=not first.order.time_sorted, ghosts=post_csp)
    return _result(job, first, calibrate.setup, [stats[k] for k in sorted(stats)], kept)


def _write_legs(job: PhotonListJob, first: _FirstPass, calibrate: ChunkCalibrator,
                files: _LegFiles, pool: Executor | None) -> int:  # fmt: skip
    """Calibrate every parked chunk, one row group per chunk and leg; returns events kept.

    With a pool, the next chunk's slices are already being calibrated while this thread folds
    this chunk's columns into the leg statistics and makes its record batches (else the pool
    would wait for them at every chunk), and a chunk's row groups are written (pyarrow releases
    the GIL) on a thread of their own; one chunk in writing at most, in order.
    """
    done = kept = 0
    with _ordered_writer(pool is not None) as write:
        for n_rows, pieces in _one_ahead(_calibrated_chunks(job, first, calibrate, pool), pool is not None):
            groups = []
            for leg_index, parts in pieces:
                batches = []
                for cols in parts:
                    files.stats[leg_index].update(
                        cols["t"], cols["ra"], cols["dec"], cols["flags"], cols["detrad"]
                    )
                    batches.append(pa.record_batch([cols[f.name] for f in files.schema],
                                                   schema=files.schema))  # fmt: skip
                    kept += len(cols["t"])
                groups.append((leg_index, batches))
            write(files.write_groups, groups)
            done += n_rows
            for stage in ("calibrate", "aspect", "photon list"):
                report_progress(job.on_progress, done, first.n_events, stage)
    return kept


def _calibrated_chunks(job: PhotonListJob, first: _FirstPass, calibrate: ChunkCalibrator,
                       pool: Executor | None) -> Iterator[tuple[int, list[tuple[int, Iterator[dict]]]]]:  # fmt: skip
    """``(rows, [(leg index, calibrated slices), ...])`` per parked chunk, in order; with a
    pool the slices are submitted when the chunk is reached and come back in order."""
    router = LegRouter(job.asp, first.order)
    done = 0
    for t, phb in first.spill.chunks():
        check_cancel(job.should_cancel, "calibration")
        pieces = [(leg_index, _calibrate_slice(calibrate, t, phb, sl, job.asp, pool))
                  for leg_index, sl in router.slices(t, done)]  # fmt: skip
        yield len(t), pieces
        done += len(t)


def _one_ahead(items: Iterator, ahead: bool) -> Iterator:
    """``items`` in order, the next one already asked for when this one is handed out (so
    the work it submits is under way); plain ``items`` when ``ahead`` is False."""
    if not ahead:
        yield from items
        return
    previous = _DONE
    for item in items:
        if previous is not _DONE:
            yield previous
        previous = item
    if previous is not _DONE:
        yield previous


@contextmanager
def _ordered_writer(threaded: bool) -> Iterator[Callable[..., None]]:
    """``write(fn, *args)``: here and now, or on one writer thread, in order, waiting for the
    previous write first (so at most one chunk waits in memory); its errors surface here."""
    pending: list[Future] = []

    def write(fn: Callable[..., None], *args) -> None:  # noqa: ANN002
        while pending:
            pending.pop().result()
        pending.append(run_on(writer, fn, *args))

    with helper_pool(1 if threaded else 0, "galex-write") as writer:
        yield write
        while pending:
            pending.pop().result()


def _calibrate_slice(calibrate: ChunkCalibrator, t: np.ndarray, phb: np.ndarray, sl: slice,
                     asp: AspectSolution, pool: Executor | None) -> Iterator[dict]:  # fmt: skip
    """Calibrate ``sl`` of a chunk in slices small enough for the intermediates to stay in
    cache; the slices of one chunk and leg still make one row group."""
    parts = [slice(lo, min(lo + CACHE_ROWS, sl.stop)) for lo in range(sl.start, sl.stop, CACHE_ROWS)]
    if pool is not None and len(parts) > 1:  # side by side, results in order
        return pool.map(calibrate, [t[p] for p in parts], [phb[:, p] for p in parts],
                        [asp] * len(parts))  # fmt: skip
    return (calibrate(t[part], phb[:, part], asp) for part in parts)


def _refuse_empty_legs(job: PhotonListJob, stats: dict[int, LegStats]) -> None:
    for k, s in stats.items():
        if s.n_events == 0:
            leg = job.asp.legs[[lg.index for lg in job.asp.legs].index(k)]
            raise EmptyLeg(
                f"eclipse {job.eclipse} leg {k} (t {leg.t_start:.1f}-{leg.t_stop:.1f}) "
                f"contains no photon events in {job.raw6_path}"
            )


def _result(job: PhotonListJob, first: _FirstPass, setup: DetectorSetup, legs: list[LegStats],
            kept: int) -> PhotonListResult:  # fmt: skip
    provenance = {
        "raw6": str(job.raw6_path), "aspect": job.asp.source, "eclipse": job.eclipse,
        "band": job.band, "post_csp": is_post_csp(job.eclipse),
        "stim_coefficients": list(setup.stim_coefficients),
        "n_stim_events": len(first.stims.t), "fuv_offsets_arcsec": list(setup.offsets),
        "calibration": dict(setup.cal.provenance), "chunk_size": job.chunk_size,
    }  # fmt: skip
    return PhotonListResult(job.eclipse, job.band, legs, first.n_events, kept,
                            len(first.stims.t), tuple(setup.stim_coefficients), job.asp,
                            provenance, first.warnings)  # fmt: skip
