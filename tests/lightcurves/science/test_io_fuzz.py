"""Fuzzing ``read_fits``: a broken or hostile file ends in InvalidInput or MissingColumns.

The same seeds and mutations as the archive reader's fuzz tests (``read_fits`` parses with that
reader); here the file goes through the path-based entry point the commands and training use.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.lightcurves.science.errors import LightCurveError
from apps.lightcurves.science.io import read_fits
from tests.archive.science.test_fits_fuzz import CARDS, HEADERS, SEEDS, STRUCTURAL, seed_names
from tests.fuzz import (
    bounded_memory,
    card_edits,
    expect_only,
    flips,
    fuzz_settings,
    memory_limit,
    truncations,
)


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as folder:
        yield Path(folder) / "fuzzed_llc.fits"


def check(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    with bounded_memory(memory_limit(data)):
        expect_only(LightCurveError, lambda: read_fits(path))


@fuzz_settings(max_examples=100)
@given(data=st.data())
def test_truncated_files_raise_only_light_curve_errors(scratch: Path, data: st.DataObject) -> None:
    name = data.draw(seed_names)
    cut = data.draw(truncations(SEEDS[name]))
    scratch.write_bytes(cut)
    with pytest.raises(LightCurveError):
        read_fits(scratch)
    check(scratch, cut)


@fuzz_settings(max_examples=100)
@given(data=st.data())
def test_flipped_bytes_raise_only_light_curve_errors(scratch: Path, data: st.DataObject) -> None:
    name = data.draw(seed_names)
    check(scratch, data.draw(flips(SEEDS[name], HEADERS[name])))


@fuzz_settings(max_examples=150)
@given(data=st.data())
def test_absurd_header_values_raise_only_light_curve_errors(
    scratch: Path, data: st.DataObject
) -> None:
    name = data.draw(seed_names)
    check(scratch, data.draw(card_edits(SEEDS[name], CARDS[name], STRUCTURAL)))


def test_every_seed_reads_as_a_light_curve(scratch: Path) -> None:
    for data in SEEDS.values():
        scratch.write_bytes(data)
        assert len(read_fits(scratch)) > 0


def test_a_k2_file_is_read_with_its_campaign_and_epic(demo_data: Path) -> None:
    lc = read_fits(demo_data / "k2" / "ktwo201437844-c102_llc.fits")
    assert (lc.mission, lc.target_id, lc.segment) == ("K2", 201437844, 10)
    assert len(lc) == 3384 and lc.time.dtype.kind == "f"


def test_a_missing_file_is_invalid_input(tmp_path: Path) -> None:
    with pytest.raises(LightCurveError, match="cannot read"):
        read_fits(tmp_path / "nowhere.fits")
