"""raw6 -> calibrated, aspect-corrected photon lists (one Parquet file per leg), in chunks.

Two streaming passes over the raw6 file keep memory bounded by the chunk size, not the
eclipse length:

1. *decode*: decode and centre/scale every event, collect the stim events (a few per
   hundred events) and check the events are time-sorted;
2. *calibrate / aspect / photon list*: per chunk, the on-detector corrections, the aspect
   solution and the detector response, then append the chunk to the leg's Parquet writer.

Photon-list schema (gPhoton 2 ``PIPELINE_VARIABLES``): t f8, ra f8, dec f8, flags u1,
col f4, row f4, detrad f4, mask bool, response f4; ``extended=True`` adds q and ya (i2).
Events outside every leg's aspect coverage are dropped, as in gPhoton 2 (which also drops
the last photon of each leg by an exclusive slice; we keep it).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

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
from .errors import BandMismatch, EmptyLeg, GalexError, Raw6Error, ReductionCancelled
from .raw6 import Raw6Reader, center_and_scale, decode_photonbytes
from .stims import StimSample, find_stims, fit_stim_coefficients, post_csp_stimstats

ProgressFn = Callable[[int, int, str], None]
CancelFn = Callable[[], bool]

PHOTONLIST_FIELDS = [
    ("t", pa.float64()), ("ra", pa.float64()), ("dec", pa.float64()), ("flags", pa.uint8()),
    ("col", pa.float32()), ("row", pa.float32()), ("detrad", pa.float32()),
    ("mask", pa.bool_()), ("response", pa.float32()),
]  # fmt: skip
EXTENDED_FIELDS = [("q", pa.int16()), ("ya", pa.int16())]


def photonlist_schema(extended: bool = False) -> pa.Schema:
    """Arrow schema of a photon list (gPhoton 2 column names and types)."""
    return pa.schema(PHOTONLIST_FIELDS + (EXTENDED_FIELDS if extended else []))


def photonlist_name(eclipse: int, band: str, leg: int) -> str:
    """gPhoton 2 name, e.g. ``e23456-nd-b00.parquet``."""
    return f"{file_prefix(eclipse, band)}-b{leg:02d}.parquet"


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
        self.n_events += len(t)
        counts = np.bincount(flags, minlength=256)
        for value in np.nonzero(counts)[0]:
            self.n_flag[int(value)] = self.n_flag.get(int(value), 0) + int(counts[value])
        on = np.isfinite(ra) & (detrad < ON_DETECTOR_RADIUS)
        if not on.any():
            return
        self.n_on_image += int(on.sum())
        r, d, tt = ra[on], dec[on], t[on]
        wrapped = np.where(r > 180, r - 360, r)
        self.t_min, self.t_max = min(self.t_min, tt.min()), max(self.t_max, tt.max())
        for bounds, values in (
            (self.ra_bounds, r),
            (self.ra_bounds_wrapped, wrapped),
            (self.dec_bounds, d),
        ):
            bounds[0], bounds[1] = min(bounds[0], values.min()), max(bounds[1], values.max())

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


def _check_cancel(should_cancel: CancelFn | None, where: str) -> None:
    if should_cancel is not None and should_cancel():
        raise ReductionCancelled(f"reduction cancelled during {where}")


def _report(on_progress: ProgressFn | None, done: int, total: int, stage: str) -> None:
    if on_progress is not None:
        on_progress(int(done), int(total), stage)


def _decode_chunk(phb, bc):
    fields = decode_photonbytes(phb)
    x, y, ya = center_and_scale(fields, bc)
    fields["ya"] = ya
    return fields, x, y


def collect_stims(
    raw6_path, band: str, eclipse: int, chunk_size: int, on_progress=None, should_cancel=None
):
    """Pass 1: stim events of the whole file, checking time order. Returns (StimSample, n)."""
    bc = band_constants(band, eclipse)
    margin = POST_CSP_STIM_MARGIN if is_post_csp(eclipse) else PRE_CSP_STIM_MARGIN
    parts, last_t, done = [], -np.inf, 0
    with Raw6Reader(raw6_path) as reader:
        total = reader.header.n_events
        for t, phb in reader.chunks(chunk_size):
            _check_cancel(should_cancel, "decode")
            if len(t) and (t[0] < last_t or np.any(np.diff(t) < 0)):
                raise Raw6Error(
                    f"raw6 file {raw6_path}: events are not sorted by time near row {done}"
                )
            fields, x, y = _decode_chunk(phb, bc)
            ids = find_stims(x, y, band, eclipse, margin)
            sel = ids > 0
            parts.append(StimSample(t[sel], x[sel], y[sel], ids[sel], fields["ya"][sel],
                                    fields["yb"][sel], fields["yamc"][sel]))  # fmt: skip
            last_t = t[-1] if len(t) else last_t
            done += len(t)
            _report(on_progress, done, total, "decode")
    return StimSample.concatenate(parts), total


def _leg_slices(t: np.ndarray, asp: AspectSolution) -> list[tuple[int, slice]]:
    out = []
    for leg in asp.legs:
        lo = int(np.searchsorted(t, leg.t_start, side="left"))
        hi = int(np.searchsorted(t, leg.t_stop, side="right"))
        if hi > lo:
            out.append((leg.index, slice(lo, hi)))
    return out


class _Calibrator:
    """Holds everything pass 2 needs and turns one raw chunk into photon-list columns."""

    def __init__(self, band, eclipse, cal, stim_coefficients, offsets, yac, post_tables, extended):
        self.bc = band_constants(band, eclipse)
        self.cal, self.stim_coefficients, self.offsets = cal, stim_coefficients, offsets
        self.yac, self.post_tables, self.extended = yac, post_tables, extended

    def __call__(self, t, phb, asp):
        fields, x, y = _decode_chunk(phb, self.bc)
        if self.yac is not None:
            x, y = calib.apply_yac_correction(fields, x, y, self.yac, self.post_tables)
        det = calib.apply_on_detector_corrections(
            x, y, fields["xa"], fields["ya"], fields["q"], t, self.cal, self.bc,
            self.stim_coefficients, self.offsets,
        )  # fmt: skip
        ra, dec, flags = apply_aspect(t, det.xi, det.eta, det.flags, asp)
        resp = calib.calibrate_response(det.col, det.row, t, self.cal, self.bc)
        cols = {
            "t": t, "ra": ra, "dec": dec, "flags": flags,
            "col": det.col.astype(np.float32), "row": det.row.astype(np.float32),
            "detrad": resp.detrad.astype(np.float32), "mask": resp.mask,
            "response": resp.response.astype(np.float32),
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
    """
    band = normalize_band(band)
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

    stims, total = collect_stims(raw6_path, band, eclipse, chunk_size, on_progress, should_cancel)
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

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    schema = photonlist_schema(extended)
    if yac is not None and not extended:
        schema = schema.append(pa.field("ya", pa.int16()))
    stats = {
        leg.index: LegStats(leg.index, out_dir / photonlist_name(eclipse, band, leg.index))
        for leg in asp.legs
    }
    tmp = {k: s.path.with_name(f".{s.path.name}.partial") for k, s in stats.items()}
    writers: dict[int, pq.ParquetWriter] = {}
    try:
        done = kept = 0
        with Raw6Reader(raw6_path) as reader:
            for t, phb in reader.chunks(chunk_size):
                _check_cancel(should_cancel, "calibration")
                for leg_index, sl in _leg_slices(t, asp):
                    cols = calibrate(t[sl], phb[sl], asp)
                    stats[leg_index].update(
                        cols["t"], cols["ra"], cols["dec"], cols["flags"], cols["detrad"]
                    )
                    if leg_index not in writers:
                        writers[leg_index] = pq.ParquetWriter(tmp[leg_index], schema, compression="snappy",
                                                              use_dictionary=["flags"])  # fmt: skip
                    writers[leg_index].write_table(
                        pa.table({f.name: cols[f.name] for f in schema}, schema=schema)
                    )
                    kept += len(cols["t"])
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
        table.schema.get_field_index("flags"), "flags", pa.array(flags, pa.uint8())
    )
    pq.write_table(table, path, compression="snappy", use_dictionary=["flags"])
