"""raw6: bit fields, centre and scale, and the streaming FITS reader/writer."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
from astropy.io import fits

from apps.galex.science import raw6
from apps.galex.science.constants import band_constants
from apps.galex.science.errors import Raw6Error
from apps.galex.science.raw6 import (
    Raw6Reader,
    center_and_scale,
    decode_columns,
    encode_fields,
    read_raw6_header,
    write_raw6,
)
from apps.galex.science.raw6.fields import (
    center_scale_reference,
    decode_photonbytes,
    decode_reference,
    encode_reference,
)

RANGES = {
    "xb": (0, 7),
    "xamc": (-2048, 2047),
    "yb": (0, 7),
    "yamc": (-2048, 2047),
    "q": (0, 31),
    "xa": (0, 31),
}


def random_fields(rng, n):
    return {k: rng.integers(lo, hi + 1, n).astype(np.int16) for k, (lo, hi) in RANGES.items()}


def extreme_fields():
    corners = np.array(np.meshgrid(*[[lo, hi] for lo, hi in RANGES.values()])).reshape(6, -1)
    return {k: corners[i].astype(np.int16) for i, k in enumerate(RANGES)}


@pytest.mark.parametrize("fields", [random_fields(np.random.default_rng(0), 200_000), extreme_fields()],
                         ids=["random", "extreme"])  # fmt: skip
def test_it_decodes_what_it_encodes(fields):
    decoded = decode_photonbytes(encode_fields(fields))
    for key in RANGES:
        np.testing.assert_array_equal(decoded[key], fields[key])


def test_it_encodes_every_byte_pattern_back_to_itself():
    phb = np.array(np.meshgrid(*[np.arange(0, 256, 15)] * 5)).reshape(5, -1).T.astype(np.uint8)
    np.testing.assert_array_equal(encode_fields(decode_photonbytes(phb)), phb)


def test_it_decodes_like_gphoton_expressions():
    phb = np.random.default_rng(1).integers(0, 256, (50_000, 5))
    fast, slow = decode_photonbytes(phb), decode_reference(phb)
    for key in RANGES:
        np.testing.assert_array_equal(fast[key], slow[key])


def test_it_decodes_byte_rows_like_gphoton_expressions():
    phb = np.random.default_rng(8).integers(0, 256, (30_000, 5)).astype(np.uint8)
    phb[:4] = [[0] * 5, [255] * 5, [0x10, 0, 0x20, 0, 0], [0xEF, 0xFF, 0xDF, 0xFF, 0xFF]]
    fast, slow = decode_columns(np.ascontiguousarray(phb.T)), decode_reference(phb)
    for key in RANGES:
        np.testing.assert_array_equal(fast[key], slow[key])
        assert fast[key].dtype == np.int16


def test_it_refuses_byte_rows_of_the_wrong_shape():
    with pytest.raises(Raw6Error, match=r"shape \(5, n\)"):
        decode_columns(np.zeros((4, 10), np.uint8))


def test_it_encodes_like_the_reference():
    fields = random_fields(np.random.default_rng(2), 10_000)
    np.testing.assert_array_equal(encode_fields(fields), encode_reference(fields))


def test_it_refuses_to_encode_out_of_range_fields():
    fields = random_fields(np.random.default_rng(3), 10)
    fields["q"][0] = 32
    with pytest.raises(Raw6Error, match="q outside"):
        encode_fields(fields)


@pytest.mark.parametrize(("band", "eclipse"), [("NUV", 23456), ("NUV", 40000), ("FUV", 23456)])
def test_it_centres_and_scales_like_the_reference(band, eclipse):
    fields = random_fields(np.random.default_rng(4), 20_000)
    bc = band_constants(band, eclipse)
    x, y, ya = center_and_scale(fields, bc)
    xr, yr, yar = center_scale_reference(fields, bc)
    np.testing.assert_allclose(x, xr, rtol=0, atol=1e-9)
    np.testing.assert_allclose(y, yr, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(ya, yar)


def test_it_centres_one_event_by_hand():
    bc = band_constants("NUV", 23456)
    one = {
        k: np.array([v], np.int16)
        for k, v in {"xb": 3, "xamc": 100, "yb": 3, "yamc": -50, "xa": 9, "q": 5}.items()
    }
    x, y, ya = center_and_scale(one, bc)
    xraw0, yraw0 = 3 * 2007 + 100, 3 * 1992 - 50
    assert ya[0] == int(((yraw0 / (2 * 1992) - xraw0 / (2 * 2007)) + 10) * 32 + 9) % 32
    assert x[0] == pytest.approx((xraw0 + (((9 + 7) % 32) - 16) * 0.53 - 7400) * 8.79)
    assert y[0] == pytest.approx((yraw0 - 6070) * 14.01)


def write_small(path, n=5000, band_code=1, eclipse=23456, chunk=1700):
    rng = np.random.default_rng(5)
    t = np.sort(rng.uniform(0, 100, n)) + 7e8
    phb = rng.integers(0, 256, (n, 5)).astype(np.uint8)
    write_raw6(path, band_code=band_code, eclipse=eclipse,
               chunks=((t[i : i + chunk], phb[i : i + chunk]) for i in range(0, n, chunk)))  # fmt: skip
    return t, phb


def test_it_streams_back_the_events_it_wrote(tmp_path):
    path = tmp_path / "e23456-nd-raw6.fits.gz"
    t, phb = write_small(path)
    with Raw6Reader(path) as reader:
        assert (reader.header.band, reader.header.eclipse, reader.header.n_events) == (
            "NUV",
            23456,
            5000,
        )
        parts = list(reader.chunks(999))
    np.testing.assert_array_equal(np.concatenate([p[0] for p in parts]), t)
    np.testing.assert_array_equal(np.concatenate([p[1] for p in parts]), phb)


def test_it_streams_byte_rows_that_match_the_row_chunks(tmp_path):
    path = tmp_path / "e23456-nd-raw6.fits.gz"
    t, phb = write_small(path)
    with Raw6Reader(path) as reader:
        parts = list(reader.columns(999))
    assert all(p[1].shape == (5, len(p[0])) and p[1].dtype == np.uint8 for p in parts)
    np.testing.assert_array_equal(np.concatenate([p[0] for p in parts]), t)
    np.testing.assert_array_equal(np.concatenate([p[1] for p in parts], axis=1), phb.T)


def test_it_reads_the_same_events_with_the_stdlib_gzip_reader(tmp_path, monkeypatch):
    path = tmp_path / "e23456-nd-raw6.fits.gz"
    write_small(path, n=20_000)
    with Raw6Reader(path) as reader:
        fast = list(reader.columns(7000))
    monkeypatch.setattr(raw6.reader, "_gzip_reader", gzip)
    with Raw6Reader(path) as reader:
        assert isinstance(reader._stream, gzip.GzipFile)
        slow = list(reader.columns(7000))
    for (t1, p1), (t2, p2) in zip(fast, slow, strict=True):
        np.testing.assert_array_equal(t1, t2)
        np.testing.assert_array_equal(p1, p2)


def test_it_writes_a_fits_file_astropy_reads(tmp_path):
    path = tmp_path / "e23456-fd-raw6.fits.gz"
    t, phb = write_small(path, band_code=2)
    with fits.open(path) as hdul:
        assert hdul[0].header["BAND"] == 2 and hdul[0].header["ECLIPSE"] == 23456
        np.testing.assert_array_equal(hdul[1].data["t"], t)
        np.testing.assert_array_equal(hdul[1].data["phb3"], phb[:, 2])


def test_it_writes_identical_bytes_twice(tmp_path):
    write_small(tmp_path / "a.fits.gz")
    write_small(tmp_path / "b.fits.gz")
    assert (tmp_path / "a.fits.gz").read_bytes() == (tmp_path / "b.fits.gz").read_bytes()


def test_it_names_a_truncated_file(tmp_path):
    path = tmp_path / "cut.fits.gz"
    write_small(path, n=20_000)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(Raw6Error, match="cut.fits.gz.*truncated"), Raw6Reader(path) as reader:
        for _ in reader.chunks(1000):
            pass


def test_it_rejects_a_file_that_is_not_gzip_or_fits(tmp_path):
    path = tmp_path / "junk.fits.gz"
    path.write_bytes(b"this is not a raw6 file" * 200)
    with pytest.raises(Raw6Error, match="neither gzip-compressed nor FITS"):
        read_raw6_header(path)


def test_it_rejects_gzip_that_is_not_fits(tmp_path):
    path = tmp_path / "text.fits.gz"
    path.write_bytes(gzip.compress(b"hello" * 100))
    with pytest.raises(Raw6Error, match="truncated"):
        read_raw6_header(path)


def test_it_names_missing_columns(tmp_path):
    path = tmp_path / "nophb5.fits.gz"
    cols = [fits.Column(name="t", format="D", array=np.arange(3.0))]
    cols += [
        fits.Column(name=f"phb{i}", format="B", array=np.zeros(3, np.uint8)) for i in range(1, 5)
    ]
    primary = fits.PrimaryHDU()
    primary.header["BAND"], primary.header["ECLIPSE"] = 1, 100
    fits.HDUList([primary, fits.BinTableHDU.from_columns(cols)]).writeto(path)
    with pytest.raises(Raw6Error, match="lacks column.*phb5"):
        read_raw6_header(path)


def test_it_names_a_missing_band_keyword(tmp_path):
    path = tmp_path / "noband.fits"
    fits.HDUList(
        [
            fits.PrimaryHDU(),
            fits.BinTableHDU.from_columns([fits.Column(name="t", format="D", array=[1.0])]),
        ]
    ).writeto(path)
    with pytest.raises(Raw6Error, match="lacks BAND"):
        read_raw6_header(path)


def test_it_says_when_the_file_does_not_exist(tmp_path):
    with pytest.raises(Raw6Error, match="does not exist"):
        read_raw6_header(tmp_path / "nope.fits.gz")
