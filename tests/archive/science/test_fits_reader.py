"""Our light-curve FITS reader against astropy on every demo file, and its typed errors."""

from __future__ import annotations

import io
import warnings
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
from apps.archive.science.fits import (
    column_values,
    parse_hdus,
    parse_long_string,
    parse_value,
    read_bintable,
)
from apps.archive.science.lightcurve_file import FLOAT_COLUMNS, QUALITY_SOURCE, read_lightcurve
from apps.archive.science.naming import k2_campaign, parse_name
from apps.archive.science.quality import KEPLER_DEFAULT_BITMASK
from tests.demo_files import (
    LIGHTCURVE_FOLDERS,
    fits_files,
    lightcurve_files,
    manifest_files,
    relative,
)

COMMENTARY = {"COMMENT", "HISTORY", ""}
"""Keywords astropy keeps as commentary (never KEY = value); our Header leaves them out."""


def light_curve_files(demo_data: Path) -> list[Path]:
    return lightcurve_files(demo_data)


def test_the_demo_folder_holds_what_its_manifest_lists(demo_data: Path) -> None:
    listed = manifest_files(demo_data)
    assert sorted(relative(demo_data, fits_files(demo_data))) == sorted(
        name for name in listed if name.endswith(".fits")
    )
    assert sorted(relative(demo_data, light_curve_files(demo_data))) == sorted(
        name for name in listed if name.split("/")[0] in LIGHTCURVE_FOLDERS
    )
    assert {path.parent.name for path in light_curve_files(demo_data)} == set(LIGHTCURVE_FOLDERS)


def test_it_reads_every_column_of_every_demo_file_exactly_as_astropy(demo_data: Path) -> None:
    files = light_curve_files(demo_data)
    assert len(files) == len(
        [name for name in manifest_files(demo_data) if name.split("/")[0] in LIGHTCURVE_FOLDERS]
    )
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


def astropy_value(header: fits.Header, keyword: str) -> object:
    value = header[keyword]  # the first card of a repeated keyword, as ours
    return None if isinstance(value, fits.card.Undefined) else value


def test_it_parses_every_header_value_of_every_demo_fits_file_as_astropy(demo_data: Path) -> None:
    files = fits_files(demo_data)
    assert {path.parent.name for path in files} >= {*LIGHTCURVE_FOLDERS, "cal_data"}
    for path in files:
        ours = parse_hdus(path.read_bytes())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # astropy's notes on non-standard cards
            with fits.open(path) as hdus:
                assert len(ours) == len(hdus), path.name
                for index, hdu in enumerate(hdus):
                    keywords = [k for k in hdu.header if k not in COMMENTARY]
                    assert set(ours[index].header) == set(keywords), (path.name, index)
                    for keyword in keywords:
                        expected = astropy_value(hdu.header, keyword)
                        value = ours[index].header[keyword]
                        assert value == expected, (path.name, index, keyword, value, expected)
                        assert type(value) is type(expected), (path.name, index, keyword)


def test_it_joins_the_continue_cards_of_a_long_string_value(demo_data: Path) -> None:
    path = demo_data / "tess" / "tess2025206162959-s0095-0000000441420236-0292-s_lc.fits"
    data = path.read_bytes()
    assert b"CONTINUE" in data  # a SPOC header with long strings: the case that was broken
    ours = parse_hdus(data)
    assert ours[0].header["CREATOR"] == "106599 LightCurveExporterPipelineModule"
    assert ours[1].header["TUNIT1"] == "BJD - 2457000, days"


def card(image: str) -> str:
    assert len(image) <= 80
    return image.ljust(80)


def test_it_reads_a_value_continued_over_several_cards_as_astropy_does() -> None:
    cards = [
        card("SIMPLE  =                    T"),
        card("BITPIX  =                    8"),
        card("NAXIS   =                    0"),
        card("LONGSTR = 'It''s a long value, continued &'  / first part of a comment"),
        card("CONTINUE  'over three ''CONTINUE'' cards&' / second part"),
        card("CONTINUE  '' / an empty part, as SPOC writes them"),
        card("CONTINUE  '  with blanks kept inside  &'"),
        card("CONTINUE  'the end'"),
        card("AMPONLY = 'ends in an ampersand but is not continued&'"),
        card("REPEAT  = 'first'"),
        card("REPEAT  = 'second&'"),
        card("CONTINUE  ' is ignored: the first REPEAT wins'"),
        card("AFTER   =                   42 / parsed as usual after the long strings"),
        card("END"),
    ]
    header = "".join(cards).encode("ascii")
    data = header.ljust(-(-len(header) // 2880) * 2880, b" ")
    ours = parse_hdus(data)[0].header
    with fits.open(io.BytesIO(data)) as hdus:
        astropy = hdus[0].header
        for keyword in ("LONGSTR", "AMPONLY", "REPEAT", "AFTER"):
            assert ours[keyword] == astropy_value(astropy, keyword), keyword
    assert ours["LONGSTR"] == (
        "It's a long value, continued over three 'CONTINUE' cards  with blanks kept inside  the end"
    )
    assert ours["AMPONLY"] == "ends in an ampersand but is not continued&"
    assert ours["REPEAT"] == "first" and ours["AFTER"] == 42
    assert "CONTINUE" not in ours and set(ours) == {*astropy} - COMMENTARY


def test_it_reads_what_astropy_writes_as_a_long_string() -> None:
    value = "A value of 300 characters with 'quotes' & ampersands & " * 6
    header = fits.Header()
    header["LONGSTR"] = (value, "a comment long enough to be continued as well " * 3)
    header["NEXT"] = 1.5
    buffer = io.BytesIO()
    fits.PrimaryHDU(header=header).writeto(buffer)
    data = buffer.getvalue()
    assert data.count(b"CONTINUE") >= 5
    ours = parse_hdus(data)[0].header
    assert ours["LONGSTR"] == value.rstrip() and ours["NEXT"] == 1.5


def test_it_refuses_a_continued_value_that_is_not_a_string() -> None:
    with pytest.raises(FitsFormatError, match="not a string"):
        parse_long_string((b"                   5".ljust(70), b"  'more'".ljust(72)))
    with pytest.raises(FitsFormatError, match="not a string"):
        parse_long_string((b"'start&'".ljust(70), b"  12 / a number".ljust(72)))


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


def test_it_reads_the_real_k2_files_by_campaign_and_epic_with_empty_stellar_keywords(
    demo_data: Path,
) -> None:
    files = sorted((demo_data / "k2").glob("*.fits"))
    assert files
    for path in files:
        lc = read_lightcurve(path.read_bytes())
        name = parse_name(path.name)
        with fits.open(path) as hdus:
            header, table = hdus[0].header, hdus["LIGHTCURVE"].data
            assert header["MISSION"] == "K2" and "QUARTER" not in header
            assert (lc.mission, lc.identifier, lc.cadence) == ("k2", header["KEPLERID"], "long")
            assert lc.identifier == name.identifier and header["OBJECT"] == f"EPIC {lc.identifier}"
            # CAMPAIGN = 102 is the second part of campaign 10: the season file names use
            assert lc.season == k2_campaign(header["CAMPAIGN"]) == name.season
            assert lc.stellar["magnitude"] == header["KEPMAG"]
            for key in ("teff", "logg", "radius", "metallicity"):  # present in the header, empty
                assert key not in lc.stellar, (path.name, key)
            thrusters = (table["SAP_QUALITY"] & 1048576) != 0  # K2 definite thruster firings
            assert thrusters.any() and not lc.columns["GOOD_QUALITY"][thrusters].any()
            assert lc.quality_bitmask == KEPLER_DEFAULT_BITMASK
    assert {read_lightcurve(p.read_bytes()).season for p in files} >= {10, 12}


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
