"""lightcurve_ingest_file: FITS -> Parquet + LightCurve row, idempotent, verified, header-filled."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from astropy.io import fits

from apps.archive.models import ArchiveFile, FileState
from apps.archive.science.lightcurve_file import SERIES_COLUMNS
from apps.archive.science.naming import k2_campaign, parse_name
from apps.archive.science.quality import KEPLER_DEFAULT_BITMASK, TESS_DEFAULT_BITMASK
from apps.archive.services import lightcurve_ingest_file, lightcurves_ingest_files
from apps.catalog.models import LightCurve, Target
from apps.core.errors import InvalidInput
from tests.demo_files import LIGHTCURVE_FOLDERS, lightcurve_files, manifest_files

pytestmark = pytest.mark.django_db


def demo_files(demo_data: Path) -> list[Path]:
    return lightcurve_files(demo_data)


#: What each mission's primary header calls the star and the season.
ID_KEY = {"kepler": "KEPLERID", "k2": "KEPLERID", "tess": "TICID"}
SEASON_KEY = {"kepler": "QUARTER", "k2": "CAMPAIGN", "tess": "SECTOR"}


def test_it_ingests_every_demo_light_curve(demo_data: Path, data_root: Path) -> None:
    files = demo_files(demo_data)
    listed = [n for n in manifest_files(demo_data) if n.split("/")[0] in LIGHTCURVE_FOLDERS]
    rows = [lightcurve_ingest_file(path=path) for path in files]
    assert LightCurve.objects.count() == len(files) == len(listed)
    for path, row in zip(files, rows, strict=True):
        mission = path.parent.name
        with fits.open(path) as hdus:
            header, table = hdus[0].header, hdus["LIGHTCURVE"].data
            season = header[SEASON_KEY[mission]]
            assert row.mission == mission
            assert row.n_points == len(table)
            # K2's split campaigns say CAMPAIGN = 101/102; the row keeps campaign 10, as the
            # file name (and the download ledger) do
            assert row.quarter_or_sector == (k2_campaign(season) if mission == "k2" else season)
            assert row.quarter_or_sector == parse_name(path.name).season or mission == "kepler"
            assert row.time_system == ("BTJD" if mission == "tess" else "BKJD")
            assert row.time_start == pytest.approx(np.nanmin(table["TIME"]))
            assert row.time_end == pytest.approx(np.nanmax(table["TIME"]))
            assert row.target.identifier == str(header[ID_KEY[mission]])
        assert row.source_filename == path.name
        assert (data_root / row.parquet_path).is_file()
        assert row.provenance["code_version"]
    expected = {"short": 0, "2min": 0, "long": 0}
    for path in files:  # the cadence each file name says
        expected[parse_name(path.name).cadence] += 1
    cadences = list(LightCurve.objects.values_list("cadence", flat=True))
    assert {cadence: cadences.count(cadence) for cadence in expected} == expected
    assert set(LightCurve.objects.values_list("mission", flat=True)) == set(LIGHTCURVE_FOLDERS)


def test_it_fills_k2_targets_from_the_header_without_the_empty_stellar_keywords(
    demo_data: Path, data_root: Path
) -> None:
    for path in sorted((demo_data / "k2").glob("*.fits")):
        row = lightcurve_ingest_file(path=path)
        with fits.open(path) as hdus:
            header = hdus[0].header
        target = row.target
        assert (target.mission, target.identifier) == ("k2", str(header["KEPLERID"]))
        assert target.display_id == f"EPIC {header['KEPLERID']}"
        assert "TEFF" in header and header["TEFF"] is None  # present, without a value
        assert target.teff is None and target.ra == pytest.approx(header["RA_OBJ"])


def test_it_writes_the_series_values_unchanged_with_the_default_mask(
    demo_data: Path, data_root: Path
) -> None:
    for path, quality_column, bitmask in [
        (
            demo_data / "kepler" / "kplr011442793-2009350155506_llc.fits",
            "SAP_QUALITY",
            KEPLER_DEFAULT_BITMASK,
        ),
        (
            demo_data / "tess" / "tess2018206045859-s0001-0000000025155310-0120-s_lc.fits",
            "QUALITY",
            TESS_DEFAULT_BITMASK,
        ),
    ]:
        row = lightcurve_ingest_file(path=path)
        series = pq.read_table(data_root / row.parquet_path)
        assert series.column_names == list(SERIES_COLUMNS)
        assert series.schema.metadata[b"gaia.quality_bitmask"] == str(bitmask).encode()
        with fits.open(path) as hdus:
            table = hdus["LIGHTCURVE"].data
            for name in (
                "TIME",
                "PDCSAP_FLUX",
                "PDCSAP_FLUX_ERR",
                "SAP_FLUX",
                "SAP_FLUX_ERR",
                "MOM_CENTR1",
                "MOM_CENTR2",
            ):
                np.testing.assert_array_equal(series[name].to_numpy(), table[name])
            np.testing.assert_array_equal(series["QUALITY"].to_numpy(), table[quality_column])
            good = series["GOOD_QUALITY"].to_numpy()
            np.testing.assert_array_equal(good, (table[quality_column] & bitmask) == 0)
            assert 0 < good.sum() < len(good)  # the mask does something on real data


def test_it_updates_the_same_row_when_a_file_is_ingested_again(
    demo_data: Path, data_root: Path
) -> None:
    path = demo_data / "kepler" / "kplr011442793-2010009091648_llc.fits"
    first = lightcurve_ingest_file(path=path)
    second = lightcurve_ingest_file(path=path)
    assert second.pk == first.pk
    assert LightCurve.objects.count() == 1 and Target.objects.count() == 1
    assert second.parquet_path == first.parquet_path
    assert second.provenance["ingested_at"] > first.provenance["ingested_at"]
    files = list((data_root / "lightcurves").rglob("*.parquet"))
    assert len(files) == 1 and not list((data_root / "lightcurves").rglob("*.part"))


def test_it_fills_only_the_stellar_parameters_a_target_lacks(
    demo_data: Path, data_root: Path
) -> None:
    Target.objects.create(
        mission="kepler", identifier="11442793", teff=6000.0, stellar_source="Kepler DR25 stellar"
    )
    path = demo_data / "kepler" / "kplr011442793-2009350155506_llc.fits"
    row = lightcurve_ingest_file(path=path)
    with fits.open(path) as hdus:
        header = hdus[0].header
    target = row.target
    assert target.teff == 6000.0  # the catalogue value stays
    assert (
        target.logg == header["LOGG"]
        and target.radius == header["RADIUS"]
        and target.ra == header["RA_OBJ"]
    )
    assert target.stellar_source == "Kepler DR25 stellar"
    fresh = lightcurve_ingest_file(
        path=demo_data / "kepler" / "kplr010874614-2009131105131_llc.fits"
    ).target
    assert (
        fresh.stellar_source == "header"
        and fresh.teff is not None
        and "kic 10874614" in fresh.search_names
    )


def test_it_rejects_a_corrupted_file_and_says_why(
    demo_data: Path, data_root: Path, writable_copy
) -> None:  # noqa: ANN001
    path = writable_copy(demo_data / "kepler" / "kplr011442793-2009350155506_llc.fits")
    data = bytearray(path.read_bytes())
    data[30000] ^= 0x10
    path.write_bytes(bytes(data))
    with pytest.raises(InvalidInput, match="CHECKSUM mismatch"):
        lightcurve_ingest_file(path=path)
    assert LightCurve.objects.count() == 0


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda data: data[: len(data) // 3], "incomplete download"),
        (lambda data: b"<html>busy</html>" * 300, "not a FITS file"),
    ],
)
def test_it_rejects_truncated_and_foreign_files(
    demo_data: Path, data_root: Path, writable_copy, damage, reason: str
) -> None:  # noqa: ANN001
    path = writable_copy(demo_data / "kepler" / "kplr011442793-2009350155506_llc.fits")
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(InvalidInput, match=reason):
        lightcurve_ingest_file(path=path)


def test_it_rejects_a_file_whose_name_names_another_star(
    demo_data: Path, tmp_path: Path, data_root: Path
) -> None:
    renamed = tmp_path / "kplr002306740-2009350155506_llc.fits"
    renamed.write_bytes(
        (demo_data / "kepler" / "kplr011442793-2009350155506_llc.fits").read_bytes()
    )
    with pytest.raises(
        InvalidInput, match="file name says kepler 2306740 but the headers say kepler 11442793"
    ):
        lightcurve_ingest_file(path=renamed)


def test_it_rejects_a_missing_file(data_root: Path, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="cannot read file"):
        lightcurve_ingest_file(path=tmp_path / "kplr011442793-2009350155506_llc.fits")


def test_it_isolates_a_bad_file_within_a_batch(
    demo_data: Path, data_root: Path, writable_copy
) -> None:  # noqa: ANN001
    good = sorted((demo_data / "kepler").glob("kplr0023*.fits"))[:2]
    bad = writable_copy(demo_data / "kepler" / "kplr011442793-2009350155506_llc.fits")
    bad.write_bytes(bad.read_bytes()[:10000])
    outcomes = lightcurves_ingest_files(paths=[good[0], bad, good[1]], batch_size=8)
    assert [bool(o.lightcurve) for o in outcomes] == [True, False, True]
    assert "incomplete download" in outcomes[1].error
    assert LightCurve.objects.count() == 2


def test_it_marks_the_ledger_row_of_an_ingested_file(demo_data: Path, data_root: Path) -> None:
    path = demo_data / "kepler" / "kplr011442793-2009350155506_llc.fits"
    ArchiveFile.objects.create(
        mission="kepler", filename=path.name, uri="mast:x", url="http://x", state=FileState.VERIFIED
    )
    row = lightcurve_ingest_file(path=path)
    ledger = ArchiveFile.objects.get(filename=path.name)
    assert (
        ledger.state == FileState.INGESTED
        and ledger.lightcurve_id == row.pk
        and ledger.target_id == row.target_id
    )
