"""Real raw6 layouts: tables written by astropy in gPhoton's column formats, scaled columns, wide
rows, and events that are not time-sorted (legs cut by file position as gPhoton 2 cuts them)."""

from __future__ import annotations

import gzip
import io
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from astropy.io import fits

from apps.galex.science.errors import Raw6Error
from apps.galex.science.photonlist import make_photonlists
from apps.galex.science.photonlist.legs import EventOrder, LegRouter
from apps.galex.science.raw6 import Raw6Reader, write_raw6

N = 500


def _events(seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return np.sort(rng.uniform(7.4e8, 7.4e8 + 100, N)), rng.integers(0, 256, (N, 6)).astype(np.uint8)


def _write(path: Path, columns: list[fits.Column], *, band: int = 1, eclipse: int = 23456) -> Path:
    primary = fits.PrimaryHDU()
    primary.header["BAND"], primary.header["ECLIPSE"] = band, eclipse
    buffer = io.BytesIO()
    fits.HDUList([primary, fits.BinTableHDU.from_columns(columns)]).writeto(buffer)
    path.write_bytes(gzip.compress(buffer.getvalue(), mtime=0))
    return path


def _read_all(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with Raw6Reader(path) as reader:
        parts = list(reader.columns(137))
    return np.concatenate([t for t, _ in parts]), np.concatenate([p for _, p in parts], axis=1)


def test_it_reads_gphoton_column_formats_in_any_order_with_extra_columns(tmp_path):
    # gPhoton's raw6 columns: t 'D', phb1..phb6 'B' (and a 16-bit flags column), here shuffled,
    # upper-cased and with columns the pipeline does not use.
    t, phb = _events()
    columns = [fits.Column(name="FLAGS", format="I", array=np.arange(N) % 7)]
    columns += [fits.Column(name=f"PHB{i}", format="B", array=phb[:, i - 1]) for i in (3, 1, 6, 5, 2, 4)]
    columns += [fits.Column(name="T", format="D", array=t), fits.Column(name="NOTE", format="5A", array=["raw6"] * N)]
    got_t, got_phb = _read_all(_write(tmp_path / "e23456-nd-raw6.fits.gz", columns))
    np.testing.assert_array_equal(got_t, t)
    np.testing.assert_array_equal(got_phb, phb[:, :5].T)
    assert got_phb.dtype == np.uint8


def _raw_table_file(path: Path, stored: dict[str, tuple[str, np.ndarray]], cards: dict, naxis1: int = 0) -> Path:
    """A raw6 FITS file written byte by byte: ``stored`` name -> (TFORM, stored values), big-endian
    rows of ``naxis1`` bytes (default: the columns' width), extra table ``cards``."""
    names = list(stored)
    formats = [np.dtype(values.dtype).newbyteorder(">") for _, values in stored.values()]
    offsets = list(np.cumsum([0] + [f.itemsize for f in formats[:-1]]))
    width = sum(f.itemsize for f in formats)
    rows = np.zeros(len(next(iter(stored.values()))[1]),
                    dtype=np.dtype({"names": names, "formats": formats, "offsets": offsets,
                                    "itemsize": naxis1 or width}))  # fmt: skip
    table = fits.Header([("XTENSION", "BINTABLE"), ("BITPIX", 8), ("NAXIS", 2), ("NAXIS1", naxis1 or width),
                         ("NAXIS2", len(rows)), ("PCOUNT", 0), ("GCOUNT", 1), ("TFIELDS", len(names))])  # fmt: skip
    for i, (name, (tform, values)) in enumerate(stored.items(), start=1):
        rows[name] = values
        table[f"TTYPE{i}"], table[f"TFORM{i}"] = name, tform
    for key, value in cards.items():
        table[key] = value
    primary = fits.Header([("SIMPLE", True), ("BITPIX", 8), ("NAXIS", 0), ("EXTEND", True),
                           ("BAND", 1), ("ECLIPSE", 23456)])  # fmt: skip
    data = rows.tobytes()
    blob = (primary.tostring(padding=True) + table.tostring(padding=True)).encode() + data
    path.write_bytes(blob + b"\0" * (-len(data) % 2880))
    return path


def test_it_applies_tzero_and_tscal_as_fits_readers_do(tmp_path):
    t, phb = _events(2)
    ticks = np.round((t - 7.4e8) / 0.005).astype(np.int64)  # time as 5-ms ticks from an epoch
    stored = {
        "t": ("K", ticks),
        "phb1": ("I", (phb[:, 0].astype(np.int32) - 32768).astype(np.int16)),  # unsigned 16-bit
        "phb2": ("B", phb[:, 1]),  # read with TZERO -128: signed bytes
        **{f"phb{i}": ("J", phb[:, i - 1].astype(np.int32)) for i in (3, 4, 5)},
    }
    cards = {"TSCAL1": 0.005, "TZERO1": 7.4e8, "TZERO2": 32768, "TZERO3": -128}
    path = _raw_table_file(tmp_path / "scaled-raw6.fits", stored, cards)
    got_t, got_phb = _read_all(path)
    with fits.open(path, uint=False) as hdul:  # astropy applies the scalings: the oracle
        expected_t = np.asarray(hdul[1].data["t"], np.float64)
        expected = [np.asarray(hdul[1].data[f"phb{i}"]) for i in range(1, 6)]
    np.testing.assert_array_equal(got_t, expected_t)
    np.testing.assert_allclose(got_t, t, rtol=0, atol=0.0026)
    for i in range(5):
        np.testing.assert_array_equal(got_phb[i], expected[i])
    np.testing.assert_array_equal(got_phb[0], phb[:, 0])
    np.testing.assert_array_equal(got_phb[1], phb[:, 1].astype(np.int16) - 128)
    assert got_phb.dtype == np.int16


def test_it_skips_the_unused_end_of_rows_wider_than_their_columns(tmp_path):
    t, phb = _events(3)
    stored = {"t": ("D", t), **{f"phb{i}": ("B", phb[:, i - 1]) for i in range(1, 6)}}
    path = _raw_table_file(tmp_path / "wide-raw6.fits", stored, {}, naxis1=16)  # 3 bytes of padding
    got_t, got_phb = _read_all(path)
    np.testing.assert_array_equal(got_t, t)
    np.testing.assert_array_equal(got_phb, phb[:, :5].T)
    path = _raw_table_file(tmp_path / "narrow-raw6.fits", stored, {"NAXIS1": 12})  # narrower than its columns
    with pytest.raises(Raw6Error, match="NAXIS1"):
        Raw6Reader(path)


def _chunk_by_legs(t: np.ndarray, legs: list[SimpleNamespace]) -> dict[int, np.ndarray]:
    """gPhoton 2 ``chunk_by_legs`` (np.nonzero on the whole array), keeping each leg's last row."""
    out, start = {}, 0
    for leg in legs:
        last = np.nonzero(t[start:] <= leg.t_stop)[0]
        if not len(last):
            out[leg.index] = np.array([], int)
            continue
        first = np.nonzero(t[start:] >= leg.t_start)[0]
        lo, hi = (start + first[0] if len(first) else len(t)), start + last[-1]
        out[leg.index] = np.arange(lo, hi + 1)
        start = hi + 1
    return out


@pytest.mark.parametrize("seed", range(8))
def test_the_leg_router_cuts_legs_by_file_position_like_gphoton(seed):
    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(0, 300, 4000))
    swaps = rng.integers(0, len(t), (rng.integers(0, 200), 2))  # some events out of order
    for a, b in swaps:
        t[a], t[b] = t[b], t[a]
    bounds = np.sort(rng.uniform(-20, 320, 2 * rng.integers(1, 4)))
    legs = [SimpleNamespace(index=k, t_start=bounds[2 * k], t_stop=bounds[2 * k + 1]) for k in range(len(bounds) // 2)]
    order = EventOrder()
    for leg in legs:
        rows = np.flatnonzero(t <= leg.t_stop)
        if len(rows):
            order.last_row[leg.index] = int(rows[-1])
    router = LegRouter(SimpleNamespace(legs=legs), order)
    got: dict[int, list[np.ndarray]] = {leg.index: [] for leg in legs}
    offset = 0
    for size in rng.integers(1, 900, 40):
        chunk = t[offset : offset + size]
        for index, sl in router.slices(chunk, offset):
            got[index].append(np.arange(offset, offset + len(chunk))[sl])
        offset += len(chunk)
        if offset >= len(t):
            break
    expected = _chunk_by_legs(t, legs)
    for leg in legs:
        rows = np.concatenate(got[leg.index]) if got[leg.index] else np.array([], int)
        np.testing.assert_array_equal(rows, expected[leg.index])


def test_an_unsorted_raw6_gives_the_photon_list_of_the_sorted_one(small_eclipse, cal_dir, tmp_path):
    with Raw6Reader(small_eclipse.raw6_path) as reader:
        parts = list(reader.columns())
    t = np.concatenate([p[0] for p in parts])
    phb = np.concatenate([p[1] for p in parts], axis=1).T
    rng = np.random.default_rng(5)
    shuffled = np.arange(len(t))
    for start in rng.integers(0, len(t) - 64, 50):  # out-of-order packets, as telemetry has them
        shuffled[start : start + 64] = rng.permutation(shuffled[start : start + 64])
    unsorted = tmp_path / "e23456-nd-raw6.fits.gz"
    write_raw6(unsorted, band_code=1, eclipse=23456, chunks=[(t[shuffled], phb[shuffled])])
    sorted_run = make_photonlists(small_eclipse.raw6_path, small_eclipse.aspect_dir, tmp_path / "a",
                                  band="NUV", cal_dir=cal_dir, chunk_size=40_000)  # fmt: skip
    unsorted_run = make_photonlists(unsorted, small_eclipse.aspect_dir, tmp_path / "b", band="NUV",
                                    cal_dir=cal_dir, chunk_size=40_000)  # fmt: skip
    assert any("not time-sorted" in w for w in unsorted_run.warnings)
    assert not any("not time-sorted" in w for w in sorted_run.warnings)
    a = pq.read_table(sorted_run.legs[0].path).to_pandas()
    b = pq.read_table(unsorted_run.legs[0].path).to_pandas()
    assert np.all(np.diff(b["t"].to_numpy()) >= 0)
    keys = ["t", "col", "row"]
    a = a.sort_values(keys, kind="stable").reset_index(drop=True)
    b = b.sort_values(keys, kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
