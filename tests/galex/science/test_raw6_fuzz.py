"""Fuzzing the raw6 reader: a broken or hostile raw6 file ends in Raw6Error, quickly, and never
costs more memory than its bytes.

No real raw6 file is available offline (see the demo MANIFEST), so the seeds are files in the
raw6 layout: one written by :func:`write_raw6` (``1D`` + ``1B`` columns, as gPhoton's) and one
written by astropy with 16-bit photon bytes and extra columns. Mutations (:mod:`tests.fuzz`) are
applied to the FITS bytes, which are then stored plain or gzip-compressed (so header damage gets
past the gzip layer), or to the compressed bytes themselves.
"""

from __future__ import annotations

import gzip
import io
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from hypothesis import given
from hypothesis import strategies as st

from apps.archive.science.fits import parse_hdus
from apps.galex.science.errors import Raw6Error
from apps.galex.science.raw6 import Raw6Reader, decode_columns, read_raw6_header, write_raw6
from tests.fuzz import (
    bounded_memory,
    card_edits,
    expect_only,
    flips,
    fuzz_settings,
    header_cards,
    memory_limit,
    truncations,
)

pytestmark = pytest.mark.filterwarnings(  # astropy's notes on the cards the fuzzing breaks
    "ignore::astropy.utils.exceptions.AstropyUserWarning"
)

N_EVENTS = 300
STRUCTURAL = tuple(
    key.ljust(8).encode()
    for key in (
        "SIMPLE", "XTENSION", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2", "PCOUNT", "GCOUNT", "THEAP",
        "TFIELDS", "BAND", "ECLIPSE",
        *(f"{kind}{n}" for kind in ("TFORM", "TTYPE") for n in range(1, 10)),
    )
)  # fmt: skip


def _written_by_write_raw6() -> bytes:
    rng = np.random.default_rng(3)
    t = np.sort(rng.uniform(0, 100, N_EVENTS)) + 7e8
    phb = rng.integers(0, 256, (N_EVENTS, 5)).astype(np.uint8)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "e23456-nd-raw6.fits.gz"
        write_raw6(path, band_code=1, eclipse=23456, chunks=[(t, phb)])
        return gzip.decompress(path.read_bytes())


def _written_by_astropy() -> bytes:
    rng = np.random.default_rng(4)
    columns = [fits.Column(name="T", format="D", array=np.sort(rng.uniform(7e8, 7.1e8, N_EVENTS)))]
    columns += [
        fits.Column(name=f"PHB{i}", format="I", array=rng.integers(0, 256, N_EVENTS))
        for i in range(1, 7)
    ]
    columns += [
        fits.Column(name="FLAGS", format="8X", array=np.zeros((N_EVENTS, 8), dtype=bool)),
        fits.Column(name="NOTE", format="4A", array=np.array(["raw6"] * N_EVENTS)),
    ]
    primary = fits.PrimaryHDU(np.zeros((3, 5), dtype=np.int16))  # a primary with data to skip
    primary.header["BAND"], primary.header["ECLIPSE"] = 2, 31000
    buffer = io.BytesIO()
    fits.HDUList([primary, fits.BinTableHDU.from_columns(columns)]).writeto(buffer)
    return buffer.getvalue()


SEEDS = {"write_raw6": _written_by_write_raw6(), "astropy": _written_by_astropy()}
HEADERS = {  # (start, end) of each header, the hot spots of byte flips
    name: [(h.header_start, h.data_start) for h in parse_hdus(data)] for name, data in SEEDS.items()
}
CARDS = {name: header_cards(SEEDS[name], HEADERS[name]) for name in SEEDS}
seed_names = st.sampled_from(sorted(SEEDS))


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    decode_columns(np.zeros((5, 1), np.uint8))  # numba kernels load before the first timed example
    with tempfile.TemporaryDirectory() as folder:
        yield Path(folder) / "e23456-nd-raw6.fits.gz"


def read_all(path: Path) -> None:
    """Open, validate and stream every event, decoding the photon bytes as the pipeline does."""
    read_raw6_header(path)
    with Raw6Reader(path) as reader:
        for _t, phb in reader.columns(chunk_rows=97):
            decode_columns(phb)


def check(path: Path, fits_bytes: bytes, stored: bytes) -> None:
    path.write_bytes(stored)
    with bounded_memory(memory_limit(fits_bytes)):
        expect_only(Raw6Error, lambda: read_all(path))


def stored_as(fits_bytes: bytes, compressed: bool) -> bytes:
    return gzip.compress(fits_bytes, compresslevel=1, mtime=0) if compressed else fits_bytes


@fuzz_settings(max_examples=100)
@given(data=st.data())
def test_truncated_files_raise_only_raw6_errors(scratch: Path, data: st.DataObject) -> None:
    name = data.draw(seed_names)
    compressed = data.draw(st.booleans())
    whole = stored_as(SEEDS[name], compressed)
    cut = data.draw(truncations(whole))
    scratch.write_bytes(cut)
    with pytest.raises(Raw6Error):  # never a short file that reads as a whole one
        read_all(scratch)
    check(scratch, SEEDS[name], cut)


@fuzz_settings(max_examples=100)
@given(data=st.data())
def test_flipped_bytes_raise_only_raw6_errors(scratch: Path, data: st.DataObject) -> None:
    name = data.draw(seed_names)
    if data.draw(st.booleans()):  # damage inside the FITS bytes, stored intact
        fits_bytes = data.draw(flips(SEEDS[name], HEADERS[name]))
        check(scratch, fits_bytes, stored_as(fits_bytes, data.draw(st.booleans())))
    else:  # damage to the compressed stream (gzip CRC, deflate blocks, trailer)
        check(scratch, SEEDS[name], data.draw(flips(stored_as(SEEDS[name], True))))


@fuzz_settings(max_examples=150)
@given(data=st.data())
def test_absurd_header_values_raise_only_raw6_errors(scratch: Path, data: st.DataObject) -> None:
    name = data.draw(seed_names)
    fits_bytes = data.draw(card_edits(SEEDS[name], CARDS[name], STRUCTURAL))
    check(scratch, fits_bytes, stored_as(fits_bytes, data.draw(st.booleans())))


def with_card(
    name: str, keyword: str, value: str, hdu: int = 1, data: bytes | None = None
) -> bytes:
    """Seed ``name`` (or ``data`` laid out like it) with one card's value field replaced."""
    data = SEEDS[name] if data is None else data
    start, end = HEADERS[name][hdu]
    key = keyword.ljust(8).encode() + b"= "
    offset = next(o for o in range(start, end, 80) if data[o : o + 10] == key)
    return data[: offset + 10] + value.encode().ljust(70) + data[offset + 80 :]


@pytest.mark.parametrize(
    ("keyword", "value", "hdu"),
    [
        ("NAXIS2", "1000000000000", 1),  # 10**12 events: read until the data runs out
        ("NAXIS2", "-5", 1),
        ("NAXIS1", "-14", 1),
        ("NAXIS1", "2147483647", 1),
        ("TFORM1", "'1000000000000D'", 1),
        ("TFORM1", "'268435455D'", 1),
        ("TFORM1", "'2147483647D'", 1),  # 16 GiB per value: numpy cannot even describe it
        ("TFORM2", "'1E'", 1),  # phb1 as a float
        ("TFORM2", "'1A'", 1),  # phb1 as text
        ("TTYPE3", "'phb1'", 1),  # two columns called phb1
        ("TFIELDS", "'many'", 1),
        ("TFIELDS", "1000000000000", 1),
        ("BAND", "'NUV'", 0),
        ("BAND", "1.0E400", 0),
        ("ECLIPSE", "'x'", 0),
        ("NAXIS", "1000000000000", 0),
        ("NAXIS", "-1", 0),
        ("BITPIX", "7", 0),
    ],
)
def test_it_refuses_absurd_header_values_with_raw6_error(
    scratch: Path, keyword: str, value: str, hdu: int
) -> None:
    data = with_card("write_raw6", keyword, value, hdu)
    scratch.write_bytes(gzip.compress(data))
    with bounded_memory(memory_limit(data)), pytest.raises(Raw6Error):
        read_all(scratch)


def test_a_primary_array_of_absurd_size_is_not_read_into_memory(scratch: Path) -> None:
    data = with_card("astropy", "NAXIS1", "1000000000000", 0)
    data = with_card("astropy", "NAXIS2", "1000", 0, data=data)
    scratch.write_bytes(data)
    with bounded_memory(memory_limit(data)), pytest.raises(Raw6Error, match="truncated"):
        read_all(scratch)


def test_every_seed_reads_whole(scratch: Path) -> None:
    for data in SEEDS.values():
        for compressed in (False, True):
            scratch.write_bytes(stored_as(data, compressed))
            with Raw6Reader(scratch) as reader:
                assert sum(len(t) for t, _ in reader.columns(97)) == N_EVENTS


def test_a_corrupt_gzip_trailer_is_caught_once_the_events_are_read(scratch: Path) -> None:
    whole = stored_as(SEEDS["write_raw6"], True)
    for position in (len(whole) - 8, len(whole) - 2):  # the CRC-32, then the length
        broken = bytearray(whole)
        broken[position] ^= 0xFF
        scratch.write_bytes(bytes(broken))
        with pytest.raises(Raw6Error, match="corrupt|truncated"):
            read_all(scratch)


def test_a_plain_file_cut_in_the_padding_is_truncated(scratch: Path) -> None:
    data = SEEDS["write_raw6"]
    scratch.write_bytes(data[:-100])
    with pytest.raises(Raw6Error, match="padding"):
        read_all(scratch)
