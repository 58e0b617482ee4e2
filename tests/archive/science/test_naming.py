"""Kepler/K2/TESS file names, MAST URIs, identifiers and TESS sector scripts."""

from __future__ import annotations

from pathlib import Path

import pytest
from astropy.io import fits

from apps.archive.science.errors import BadIdentifier, TableFormatError, UnknownMission
from apps.archive.science.naming import (
    K2_CAMPAIGN_PARTS,
    KEPLER_LONG_CADENCE,
    KEPLER_SHORT_CADENCE,
    k2_campaign,
    k2_names,
    kepler_names,
    parse_identifier,
    parse_name,
    parse_sector_script,
)


def test_it_plans_one_file_per_quarter_stamp_for_a_kepler_star() -> None:
    names = kepler_names(11442793)
    assert len(names) == sum(len(stamps) for stamps in KEPLER_LONG_CADENCE.values())
    assert len({n.filename for n in names}) == len(names)
    assert all(
        n.uri.startswith(
            "mast:Kepler/url/missions/kepler/lightcurves/0114/011442793/kplr011442793-"
        )
        for n in names
    )
    short = kepler_names(11442793, cadence="short", quarters=[4])
    assert [n.filename[-22:] for n in short] == [f"{s}_slc.fits" for s in KEPLER_SHORT_CADENCE[4]]


def test_it_plans_every_demo_kepler_file_under_the_quarter_in_its_header(demo_data: Path) -> None:
    for path in sorted((demo_data / "kepler").glob("*.fits")):
        parsed = parse_name(path.name)
        planned = {
            n.filename: n.season for n in kepler_names(parsed.identifier, cadence=parsed.cadence)
        }
        with fits.open(path) as hdus:
            assert planned[path.name] == hdus[0].header["QUARTER"], path.name


def test_it_reads_a_tess_file_name(demo_data: Path) -> None:
    name = parse_name("tess2018206045859-s0001-0000000025155310-0120-s_lc.fits")
    assert (name.mission, name.identifier, name.season, name.cadence) == (
        "tess",
        25155310,
        1,
        "2min",
    )
    assert name.uri == "mast:TESS/product/tess2018206045859-s0001-0000000025155310-0120-s_lc.fits"


def test_it_plans_both_parts_of_split_k2_campaigns() -> None:
    names = k2_names(201611708, campaigns=[1, 10])
    assert [n.filename for n in names] == [
        "ktwo201611708-c01_llc.fits", "ktwo201611708-c101_llc.fits", "ktwo201611708-c102_llc.fits",
    ]  # fmt: skip
    assert [n.season for n in names] == [1, 10, 10]
    assert names[1].uri.endswith("lightcurves/c101/201600000/11000/ktwo201611708-c101_llc.fits")


@pytest.mark.parametrize(("text", "mission", "number"), [
    ("KIC 11442793", "kepler", 11442793), ("kic11442793", "kepler", 11442793), (" 2306740 ", "kepler", 2306740),
    ("TIC 25155310", "tess", 25155310), ("EPIC 201611708", "k2", 201611708),
])  # fmt: skip
def test_it_accepts_identifiers_as_people_type_them(text: str, mission: str, number: int) -> None:
    assert parse_identifier(text, mission=mission) == number


@pytest.mark.parametrize("bad", ["abc", "KIC", "0", "-5", "12.5", "1234567890"])
def test_it_rejects_bad_kepler_identifiers_with_a_clear_message(bad: str) -> None:
    with pytest.raises(BadIdentifier, match="KIC"):
        parse_identifier(bad, mission="kepler")


def test_it_rejects_an_unknown_mission_and_an_unknown_quarter() -> None:
    with pytest.raises(UnknownMission, match="hubble"):
        parse_identifier("5", mission="hubble")
    with pytest.raises(BadIdentifier, match="quarter 18"):
        kepler_names(5, quarters=[18])
    with pytest.raises(UnknownMission):
        parse_name("hst_12345_flt.fits")


SCRIPT = """#!/bin/sh
curl -C - -L -o tess2018206045859-s0001-0000000025155310-0120-s_lc.fits https://mast.stsci.edu/api/v0.1/Download/file/?uri=mast:TESS/product/tess2018206045859-s0001-0000000025155310-0120-s_lc.fits
curl -C - -L -o tess2018206045859-s0001-0000000231663901-0120-s_lc.fits https://mast.stsci.edu/api/v0.1/Download/file/?uri=mast:TESS/product/tess2018206045859-s0001-0000000231663901-0120-s_lc.fits
"""


def test_it_lists_the_light_curves_of_a_sector_script() -> None:
    names = parse_sector_script(SCRIPT, sector=1)
    assert [n.identifier for n in names] == [25155310, 231663901]
    assert all(n.season == 1 for n in names)


def test_it_refuses_a_script_that_is_an_error_page_or_another_sector() -> None:
    with pytest.raises(TableFormatError, match="not a curl command"):
        parse_sector_script("<html><body>503 Service Unavailable</body></html>", sector=1)
    with pytest.raises(TableFormatError, match="sector 2 script lists"):
        parse_sector_script(SCRIPT, sector=2)
    with pytest.raises(TableFormatError, match="no light-curve files"):
        parse_sector_script("#!/bin/sh\n", sector=1)


def test_it_maps_the_campaign_keyword_of_every_k2_file_part_to_its_campaign() -> None:
    # headers of split campaigns say CAMPAIGN = 91, 92, 101, 102, 111, 112 (the file part)
    for campaign, parts in K2_CAMPAIGN_PARTS.items():
        assert {k2_campaign(int(part)) for part in parts} == {campaign}
    assert [k2_campaign(c) for c in (0, 9, 10, 11, 19, 102)] == [0, 9, 10, 11, 19, 10]
