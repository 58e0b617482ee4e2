"""Our light-curve FITS reader against astropy on every demo file, and its typed errors."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from apps.archive.science.errors import (
    FitsFormatError,
    FitsTruncated,
    MissingColumns,
    UnknownMission,
)
from apps.archive.science.fits import column_values, parse_hdus, parse_value, read_bintable
from apps.archive.science.lightcurve_file import FLOAT_COLUMNS, QUALITY_SOURCE, read_lightcurve


def light_curve_files(demo_data: Path) -> list[Path]:
    return sorted((demo_data / "kepler").glob("*.fits")) + sorted(
        (demo_data / "tess").glob("*.fits")
    )


def test_it_reads_every_column_of_every_demo_file_exactly_as_astropy(demo_data: Path) -> None:
    files = light_curve_files(demo_data)
    assert len(files) == 27
    for path in files:
        ours = read_lightcurve(path.read_bytes())
        with fits.open(path) as hdus:
            table = hdus["LIGHTCURVE"].data
            for name in FLOAT_COLUMNS:
                np.testing.assert_array_equal(
                    ours.columns[name], table[name], err_msg=f"{path.name} {name}"
                )
                assert ours.columns[name].dtype == table[name].dtype.newbyteorder("=")
            np.testing.assert_array_equal(
                ours.columns["QUALITY"], table[QUALITY_SOURCE[ours.mission]]
            )
            np.testing.assert_array_equal(ours.columns["CADENCENO"], table["CADENCENO"])


def test_it_parses_every_primary_header_value_as_astropy(demo_data: Path) -> None:
    for path in light_curve_files(demo_data)[::6]:
        ours = parse_hdus(path.read_bytes())
        with fits.open(path) as hdus:
            for index, hdu in enumerate(hdus):
                for card in hdu.header.cards:
                    if card.keyword in ("COMMENT", "HISTORY", ""):
                        continue
                    expected = card.value
                    if isinstance(expected, fits.card.Undefined):
                        expected = None
                    assert ours[index].header[card.keyword] == expected, (path.name, card.keyword)


def test_it_identifies_mission_star_season_and_cadence_from_the_headers(demo_data: Path) -> None:
    kepler = read_lightcurve(
        (demo_data / "kepler" / "kplr011442793-2009350155506_llc.fits").read_bytes()
    )
    short = read_lightcurve(
        (demo_data / "kepler" / "kplr011446443-2009131110544_slc.fits").read_bytes()
    )
    tess = read_lightcurve(
        (
            demo_data / "tess" / "tess2018206045859-s0001-0000000025155310-0120-s_lc.fits"
        ).read_bytes()
    )
    assert (kepler.mission, kepler.identifier, kepler.season, kepler.cadence) == (
        "kepler",
        11442793,
        3,
        "long",
    )
    assert (short.mission, short.identifier, short.season, short.cadence) == (
        "kepler",
        11446443,
        0,
        "short",
    )
    assert (tess.mission, tess.identifier, tess.season, tess.cadence) == (
        "tess",
        25155310,
        1,
        "2min",
    )
    with fits.open(demo_data / "kepler" / "kplr011442793-2009350155506_llc.fits") as hdus:
        header = hdus[0].header
        assert kepler.stellar == {
            "ra": header["RA_OBJ"], "dec": header["DEC_OBJ"], "magnitude": header["KEPMAG"],
            "teff": header["TEFF"], "logg": header["LOGG"], "radius": header["RADIUS"],
            "metallicity": header["FEH"],
        }  # fmt: skip


def test_it_rejects_a_file_cut_short_as_an_incomplete_download(demo_data: Path) -> None:
    data = (demo_data / "kepler" / "kplr011442793-2009350155506_llc.fits").read_bytes()
    for cut in (len(data) // 2, len(data) - 2880, 4000):
        with pytest.raises(FitsTruncated):
            read_lightcurve(data[:cut])


def test_it_rejects_bytes_after_the_last_hdu(demo_data: Path) -> None:
    data = (demo_data / "kepler" / "kplr011442793-2009350155506_llc.fits").read_bytes()
    with pytest.raises(FitsTruncated, match="unexpected bytes"):
        read_lightcurve(data + b"\0" * 2880)


def test_it_rejects_something_that_is_not_fits() -> None:
    with pytest.raises(FitsFormatError, match="not a FITS file"):
        read_lightcurve(b"<html>Service unavailable</html>" * 200)


def write(primary: dict, columns: list[fits.Column]) -> bytes:
    header = fits.Header(primary)
    table = fits.BinTableHDU.from_columns(columns, name="LIGHTCURVE")
    buffer = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(header=header), table]).writeto(buffer)
    return buffer.getvalue()


def kepler_columns(skip: str = "") -> list[fits.Column]:
    names = [*FLOAT_COLUMNS, "SAP_QUALITY"]
    return [
        fits.Column(name=n, format="J" if n == "SAP_QUALITY" else "D", array=np.zeros(3))
        for n in names
        if n != skip
    ]


def test_it_names_the_columns_a_table_lacks() -> None:
    data = write(
        {"TELESCOP": "Kepler", "KEPLERID": 5, "QUARTER": 1}, kepler_columns(skip="PDCSAP_FLUX")
    )
    with pytest.raises(MissingColumns, match="PDCSAP_FLUX"):
        read_lightcurve(data)


def test_it_refuses_a_telescope_other_than_kepler_or_tess() -> None:
    data = write({"TELESCOP": "HST", "KEPLERID": 5, "QUARTER": 1}, kepler_columns())
    with pytest.raises(UnknownMission, match="HST"):
        read_lightcurve(data)


def test_it_recognises_k2_by_its_campaign_keyword() -> None:
    data = write(
        {"TELESCOP": "Kepler", "MISSION": "K2", "KEPLERID": 201611708, "CAMPAIGN": 1},
        kepler_columns(),
    )
    lc = read_lightcurve(data)
    assert (lc.mission, lc.identifier, lc.season) == ("k2", 201611708, 1)


def test_it_applies_tzero_and_tscal_like_astropy() -> None:
    unsigned = np.array([0, 1, 40000, 65535], dtype=np.uint16)
    raw = np.array([2, 4, 3, -20], dtype=np.int16)
    table = fits.BinTableHDU.from_columns(
        [
            fits.Column(name="U", format="I", bzero=32768, array=unsigned),
            fits.Column(name="S", format="I", array=raw),
        ]
    )
    table.header["TSCAL2"], table.header["TZERO2"] = 0.5, 10.0
    buffer = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(), table]).writeto(buffer)
    data = buffer.getvalue()
    hdus = parse_hdus(data)
    rows = read_bintable(data, hdus[1])
    with fits.open(io.BytesIO(data)) as astro:
        for name in ("U", "S"):
            np.testing.assert_array_equal(
                column_values(rows, hdus[1].header, name), astro[1].data[name]
            )


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        (b"'O''Brien '           / a quote inside", "O'Brien"),
        (b"                   T / logical", True),
        (b"                   F", False),
        (b"               -12 / integer", -12),
        (b"        1.5D+03 / Fortran exponent", 1500.0),
        (b"                     / no value", None),
        (b"'A/B'  / slash inside a string", "A/B"),
    ],
)
def test_it_parses_card_values(field: bytes, expected: object) -> None:
    assert parse_value(field.ljust(70)) == expected
