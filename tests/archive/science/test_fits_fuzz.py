"""Fuzzing the archive's FITS reader: only FitsFormatError (or, for a light curve, another
ArchiveDataError), fast, with memory bounded by the file's size, whatever the bytes.

Seeds are real demo files (Kepler Q0, K2 C10 part 2, TESS sector 95 with CONTINUE cards) and a
small synthetic table with scaled and unsigned columns; see :mod:`tests.fuzz` for the mutations.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from hypothesis import given
from hypothesis import strategies as st

from apps.archive.science.errors import ArchiveDataError, FitsFormatError, FitsTruncated
from apps.archive.science.fits import (
    checksum_problems,
    column_values,
    parse_hdus,
    read_bintable,
)
from apps.archive.science.lightcurve_file import read_lightcurve
from tests.conftest import demo_data_root
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

SEED_FILES = (
    "kepler/kplr010874614-2009131105131_llc.fits",
    "k2/ktwo201437844-c102_llc.fits",
    "tess/tess2025206162959-s0095-0000000441420236-0292-s_lc.fits",
)

STRUCTURAL = tuple(
    key.ljust(8).encode()
    for key in (
        "SIMPLE", "XTENSION", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2", "PCOUNT", "GCOUNT", "THEAP",
        "TFIELDS", "EXTNAME", "TELESCOP", "MISSION", "KEPLERID", "TICID", "QUARTER", "CAMPAIGN",
        "SECTOR", "OBSMODE", "TIMEDEL", "CHECKSUM", "DATASUM", "CREATOR", "TUNIT1", "TEFF",
        *(f"{kind}{n}" for kind in ("TFORM", "TTYPE", "TSCAL", "TZERO") for n in range(1, 21)),
    )
)  # fmt: skip


def synthetic_table() -> bytes:
    """A light curve with unsigned, scaled, bit and string columns (and a long string value)."""
    n = 40
    columns = [
        fits.Column(name=name, format="D", array=np.linspace(0, 1, n))
        for name in ("TIME", "PDCSAP_FLUX", "PDCSAP_FLUX_ERR", "SAP_FLUX", "SAP_FLUX_ERR",
                     "MOM_CENTR1", "MOM_CENTR2")
    ] + [
        fits.Column(name="SAP_QUALITY", format="J", array=np.arange(n)),
        fits.Column(name="CADENCENO", format="I", bzero=32768, array=np.arange(n, dtype=np.uint16)),
        fits.Column(name="SCALED", format="I", array=np.arange(n, dtype=np.int16)),
        fits.Column(name="BITS", format="11X", array=np.zeros((n, 11), dtype=bool)),
        fits.Column(name="LABEL", format="5A", array=np.array(["a"] * n)),
        fits.Column(name="VECTOR", format="3E", array=np.zeros((n, 3), dtype=np.float32)),
    ]  # fmt: skip
    table = fits.BinTableHDU.from_columns(columns, name="LIGHTCURVE")
    table.header["TSCAL10"], table.header["TZERO10"] = 0.5, 3.0
    table.header["TSCAL1"], table.header["TZERO1"] = 1.0, 0.0  # TIME: scaled, but unchanged
    primary = fits.PrimaryHDU()
    primary.header.update(TELESCOP="Kepler", KEPLERID=5, QUARTER=1, TEFF=5000.0)
    primary.header["LONGSTR"] = "a long value & more, " * 10
    buffer = io.BytesIO()
    fits.HDUList([primary, table]).writeto(buffer, checksum=True)
    return buffer.getvalue()


def _seeds() -> dict[str, bytes]:
    root = demo_data_root()
    seeds = {name: (root / name).read_bytes() for name in SEED_FILES if (root / name).is_file()}
    seeds["synthetic"] = synthetic_table()
    return seeds


SEEDS = _seeds()
HEADERS = {
    name: [(h.header_start, h.data_start) for h in parse_hdus(data)] for name, data in SEEDS.items()
}
CARDS = {name: header_cards(SEEDS[name], HEADERS[name]) for name in SEEDS}


def read_everything(data: bytes) -> None:
    """Every HDU, every header value, every column of every binary table, every checksum."""
    hdus = parse_hdus(data)
    for hdu in hdus:
        for keyword in hdu.header:
            hdu.header[keyword]  # noqa: B018 - parsing the value is the point
        if str(hdu.header.get("XTENSION", "")).strip() == "BINTABLE":
            table = read_bintable(data, hdu)
            for name in table.dtype.names or ():
                column_values(table, hdu.header, name)
    checksum_problems(data, hdus)


def check(data: bytes) -> None:
    """The property: only the documented errors, and bounded memory, for every entry point."""
    with bounded_memory(memory_limit(data)):
        expect_only(FitsFormatError, lambda: read_everything(data))
        expect_only(ArchiveDataError, lambda: read_lightcurve(data, verify_checksums=False))
        expect_only(ArchiveDataError, lambda: read_lightcurve(data))


seed_names = st.sampled_from(sorted(SEEDS))


@fuzz_settings(max_examples=150)
@given(st.data())
def test_truncated_files_raise_only_fits_errors(data: st.DataObject) -> None:
    name = data.draw(seed_names)
    cut = data.draw(truncations(SEEDS[name]))
    with pytest.raises(ArchiveDataError):  # never a short file that reads as a good one
        read_lightcurve(cut, verify_checksums=False)
    check(cut)


@fuzz_settings(max_examples=150)
@given(st.data())
def test_flipped_bytes_raise_only_fits_errors(data: st.DataObject) -> None:
    name = data.draw(seed_names)
    check(data.draw(flips(SEEDS[name], HEADERS[name])))


@fuzz_settings(max_examples=200)
@given(st.data())
def test_absurd_header_values_raise_only_fits_errors(data: st.DataObject) -> None:
    name = data.draw(seed_names)
    check(data.draw(card_edits(SEEDS[name], CARDS[name], STRUCTURAL)))


@fuzz_settings(max_examples=100)
@given(st.binary(max_size=3 * 2880))
def test_random_bytes_after_a_simple_card_raise_only_fits_errors(tail: bytes) -> None:
    check(b"SIMPLE  =                    T" + tail)


def _with_card(data: bytes, keyword: str, value: str, hdu: int = 1) -> bytes:
    """``data`` with ``keyword``'s value field in HDU ``hdu`` replaced (the card must exist)."""
    start, end = [(h.header_start, h.data_start) for h in parse_hdus(data)][hdu]
    key = keyword.ljust(8).encode() + b"= "
    offset = next(o for o in range(start, end, 80) if data[o : o + 10] == key)
    return data[: offset + 10] + value.encode().ljust(70) + data[offset + 80 :]


@pytest.mark.parametrize(
    ("keyword", "value", "error"),
    [
        ("NAXIS2", "1000000000000", FitsTruncated),  # 10**12 rows: refused before any read
        ("NAXIS", "-1", FitsFormatError),
        ("NAXIS", "1000000000000", FitsFormatError),
        # 40 rows of -144 bytes lead back to this HDU's own header: read again for ever,
        # growing the HDU list without end, before negative sizes were refused
        ("NAXIS1", "-144", FitsFormatError),
        ("NAXIS1", "-2880", FitsFormatError),
        ("NAXIS2", "-1", FitsFormatError),
        ("BITPIX", "0", FitsFormatError),
        ("PCOUNT", "-100000", FitsFormatError),
        ("GCOUNT", "-1", FitsFormatError),
        ("TFIELDS", "1000000000000", FitsFormatError),
        ("TFORM1", "'1000000000000D'", FitsFormatError),
        ("TFORM1", "'1PE(100)'", FitsFormatError),
        ("TSCAL1", "'not a number'", FitsFormatError),
        ("TZERO1", "1.0E999", FitsFormatError),
    ],
)
def test_it_refuses_absurd_structure_keywords_with_a_typed_error(
    keyword: str, value: str, error: type[Exception]
) -> None:
    data = _with_card(SEEDS["synthetic"], keyword, value)
    with bounded_memory(memory_limit(data)), pytest.raises(error):
        read_everything(data)
    with pytest.raises(ArchiveDataError):
        read_lightcurve(data, verify_checksums=False)


def test_it_renames_columns_whose_names_collide_after_renaming() -> None:
    data = _with_card(SEEDS["synthetic"], "TTYPE11", "'LABEL'")
    data = _with_card(data, "TTYPE12", "'LABEL_13'")
    data = _with_card(data, "TTYPE13", "'LABEL'")  # renamed LABEL_13 once: taken, so again
    table = read_bintable(data, parse_hdus(data)[1])
    assert len(set(table.dtype.names)) == len(table.dtype.names) == 13
    assert table.dtype.names[10:] == ("LABEL", "LABEL_13", "LABEL_13_13")


def test_it_refuses_a_series_column_that_is_not_one_number_per_row() -> None:
    data = _with_card(SEEDS["synthetic"], "TTYPE1", "'VECTORX'")
    data = _with_card(data, "TTYPE13", "'TIME'")
    with pytest.raises(FitsFormatError, match="TIME"):
        read_lightcurve(data, verify_checksums=False)


def test_a_corrupt_keyword_can_still_be_looked_up() -> None:
    data = SEEDS["synthetic"]
    offset = data.index(b"TELESCOP")
    broken = data[:offset] + b"\xffELESCOP" + data[offset + 8 :]
    header = parse_hdus(broken)[0].header
    assert {key: header[key] for key in header}["\xffELESCOP"] == "Kepler"
    assert "TELESCOP" not in header


def test_a_file_cut_between_two_hdus_is_incomplete_when_nextend_says_so() -> None:
    data = SEEDS[SEED_FILES[0]]
    hdus = parse_hdus(data)
    assert hdus[0].header["NEXTEND"] == 2
    with pytest.raises(FitsTruncated, match="NEXTEND"):
        parse_hdus(data[: hdus[2].header_start])  # LIGHTCURVE whole, APERTURE missing


def test_the_seeds_are_the_files_the_docstring_names() -> None:
    assert set(SEEDS) == {*SEED_FILES, "synthetic"}
    assert b"CONTINUE" in SEEDS[SEED_FILES[2]]
    for data in SEEDS.values():
        read_everything(data)
        assert read_lightcurve(data).n_points > 0


def test_a_seed_path_exists(demo_data: Path) -> None:
    assert all((demo_data / name).is_file() for name in SEED_FILES)
