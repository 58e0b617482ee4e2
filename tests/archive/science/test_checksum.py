"""Our FITS CHECKSUM/DATASUM arithmetic against a word-by-word reference and against astropy."""

from __future__ import annotations

import io
import struct
import warnings
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from apps.archive.science.checksum import NEGATIVE_ZERO, ones_complement_sum
from apps.archive.science.fits import checksum_problems, parse_hdus


def reference_sum(data: bytes) -> int:
    """The obvious version: add big-endian 32-bit words one by one with end-around carry."""
    total = 0
    for (word,) in struct.iter_unpack(">I", data):
        total += word
        if total > 0xFFFFFFFF:
            total = (total & 0xFFFFFFFF) + 1
    return total


@pytest.mark.parametrize("n_words", [0, 1, 2, 7, 720, 5000])
def test_it_matches_the_word_by_word_reference_on_random_bytes(n_words: int) -> None:
    data = (
        np.random.default_rng(n_words).integers(0, 256, size=4 * n_words, dtype=np.uint8).tobytes()
    )
    assert ones_complement_sum(data) == reference_sum(data)


@pytest.mark.parametrize("fill", [0x00, 0xFF, 0x80])
def test_it_matches_the_reference_on_constant_bytes_where_carries_pile_up(fill: int) -> None:
    data = bytes([fill]) * 4 * 3000
    assert ones_complement_sum(data) == reference_sum(data)


def astropy_file_with_checksums() -> bytes:
    rng = np.random.default_rng(7)
    table = fits.BinTableHDU.from_columns(
        [
            fits.Column(name="TIME", format="D", array=rng.normal(size=500)),
            fits.Column(name="FLUX", format="E", array=rng.normal(size=500).astype(np.float32)),
            fits.Column(name="QUALITY", format="J", array=rng.integers(0, 2**20, size=500)),
        ],
        name="LIGHTCURVE",
    )
    image = fits.ImageHDU(rng.integers(0, 9, size=(7, 5)).astype(np.int32), name="APERTURE")
    buffer = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(), table, image]).writeto(buffer, checksum=True)
    return buffer.getvalue()


def test_it_accepts_a_file_that_astropy_wrote_and_verifies() -> None:
    data = astropy_file_with_checksums()
    with fits.open(io.BytesIO(data), checksum=True) as hdus:
        assert all(hdu.verify_checksum() == 1 and hdu.verify_datasum() == 1 for hdu in hdus)
    assert checksum_problems(data, parse_hdus(data)) == []


def test_it_computes_the_datasum_astropy_writes() -> None:
    data = astropy_file_with_checksums()
    for hdu in parse_hdus(data)[1:]:
        assert int(hdu.header["DATASUM"]) == ones_complement_sum(data[hdu.data_start : hdu.end])


def test_it_flags_a_flipped_data_byte_like_astropy() -> None:
    data = bytearray(astropy_file_with_checksums())
    table = parse_hdus(bytes(data))[1]
    data[table.data_start + 101] ^= 0x01
    damaged = bytes(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with fits.open(io.BytesIO(damaged), checksum=True) as hdus:
            assert hdus[1].verify_datasum() == 0 and hdus[1].verify_checksum() == 0
    problems = checksum_problems(damaged, parse_hdus(damaged))
    assert any("HDU 1" in p and "CHECKSUM" in p for p in problems)
    assert any("HDU 1" in p and "DATASUM" in p for p in problems)


def test_it_flags_an_edited_header_card_but_not_the_data() -> None:
    data = bytearray(astropy_file_with_checksums())
    position = bytes(data).index(b"TTYPE2  = 'FLUX")
    data[position + 11 : position + 15] = b"FLUY"
    problems = checksum_problems(bytes(data), parse_hdus(bytes(data)))
    assert problems == ["HDU 1 (LIGHTCURVE): CHECKSUM mismatch"]


def test_it_accepts_real_kepler_and_tess_files_that_carry_checksum_only(demo_data: Path) -> None:
    """MAST light curves have CHECKSUM but no DATASUM; astropy's checksum=True then assumes a zero
    data sum and warns. Fed the true data sum, astropy's own encoder reproduces every card."""
    files = sorted((demo_data / "kepler").glob("*.fits"))[:4] + sorted(
        (demo_data / "tess").glob("*.fits")
    )
    for path in files:
        data = path.read_bytes()
        hdus = parse_hdus(data)
        assert checksum_problems(data, hdus) == [], path.name
        assert all(ones_complement_sum(data[h.header_start : h.end]) == NEGATIVE_ZERO for h in hdus)
        with fits.open(path) as astro:
            for hdu in astro:
                # private astropy helpers, used only as an independent reference here
                assert hdu._calculate_checksum(hdu._calculate_datasum()) == hdu.header["CHECKSUM"]
        with (
            pytest.warns(UserWarning, match="Checksum verification failed"),
            fits.open(path, checksum=True) as astro,
        ):
            astro[1].data  # noqa: B018 - reading the data triggers astropy's check
