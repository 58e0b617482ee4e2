"""download_run: plan, ledger, fetch, verify, ingest; resume and per-file error isolation."""

from __future__ import annotations

from pathlib import Path

import pytest

from apps.archive.models import ArchiveFile, FileState, TessSector
from apps.archive.science.naming import kepler_names, parse_name
from apps.archive.services import DownloadSpec, catalog_import_table, download_run, ledger_ensure
from apps.archive.services.ledger import AdvisoryClaims
from apps.catalog.models import LightCurve
from apps.core.errors import InvalidInput
from tests.archive.conftest import ECLIPSING_BINARY, KEPLER90
from tests.archive.fake_archive import TESS_NAME

pytestmark = pytest.mark.django_db
FAST = {"backoff_base_s": 0.02, "backoff_max_s": 0.1}


def run(**spec: object) -> dict:
    return download_run(spec=DownloadSpec(**spec), policy_overrides=FAST)


def product_requests(archive) -> list:  # noqa: ANN001
    return [entry for entry in archive.log if entry.path.startswith("/api/")]


def test_it_downloads_verifies_and_ingests_every_quarter_of_a_star(
    fake_archive, data_root: Path
) -> None:  # noqa: ANN001
    report = run(mission="kepler", identifiers=[ECLIPSING_BINARY], concurrency=4)
    planned = ArchiveFile.objects.filter(filename__startswith="kplr002306740")
    # 19 time stamps are tried; the star has Q1-Q17 (no Q0, no separate first part of Q4)
    assert report["files"] == planned.count() == 19
    assert report["counts"]["ingested"] == 17 and report["counts"]["not_observed"] == 2
    assert sorted(
        planned.filter(state=FileState.NOT_OBSERVED).values_list("quarter_or_sector", flat=True)
    ) == [0, 4]
    assert sorted(LightCurve.objects.values_list("quarter_or_sector", flat=True)) == list(
        range(1, 18)
    )
    for row in planned.filter(state=FileState.INGESTED):
        assert (data_root / row.local_path).stat().st_size == row.bytes and len(row.sha256) == 64
    assert report["failures"] == [] and report["ingest"]["rejected"] == []


def test_it_fetches_nothing_again_once_every_file_is_settled(fake_archive, data_root: Path) -> None:  # noqa: ANN001
    run(mission="kepler", identifiers=[KEPLER90])
    before = len(product_requests(fake_archive))
    report = run(mission="kepler", identifiers=[KEPLER90])
    assert len(product_requests(fake_archive)) == before
    assert report["fetched"] == 0 and report["skipped"] == 19
    assert LightCurve.objects.count() == 3 and ArchiveFile.objects.count() == 19


def test_it_ends_a_faulty_run_with_each_file_in_its_right_state(
    fake_archive, data_root: Path
) -> None:  # noqa: ANN001
    flaky, corrupt, forbidden = (
        f"kplr011442793-{s}_llc.fits" for s in ("2009350155506", "2010009091648", "2010174085026")
    )
    fake_archive.add_fault(flaky, "status", code=500, times=2)
    fake_archive.add_fault(corrupt, "flip", times=3)
    fake_archive.add_fault(forbidden, "status", code=403)
    report = run(mission="kepler", identifiers=[KEPLER90], max_attempts=3)
    states = dict(ArchiveFile.objects.values_list("filename", "state"))
    assert (states[flaky], states[corrupt], states[forbidden]) == (
        FileState.INGESTED,
        FileState.FAILED,
        FileState.FAILED,
    )
    reasons = {f["filename"]: f["error"] for f in report["failures"]}
    assert (
        "CHECKSUM mismatch" in reasons[corrupt] and reasons[forbidden] == "HTTP 403 (not retried)"
    )
    assert ArchiveFile.objects.get(filename=flaky).attempts == 3
    assert len(fake_archive.requests_for(forbidden)) == 1
    assert report["counts"] == {**report["counts"], "ingested": 1, "failed": 2, "not_observed": 16}
    assert not (data_root / ArchiveFile.objects.get(filename=corrupt).local_path).exists()


def test_it_retries_failed_files_on_the_next_run(fake_archive, data_root: Path) -> None:  # noqa: ANN001
    name = "kplr011442793-2010174085026_llc.fits"
    fake_archive.add_fault(name, "status", code=502, times=2)
    run(mission="kepler", identifiers=[KEPLER90], max_attempts=2)
    assert ArchiveFile.objects.get(filename=name).state == FileState.FAILED
    report = run(mission="kepler", identifiers=[KEPLER90])
    assert (
        report["fetched"] == 1
        and ArchiveFile.objects.get(filename=name).state == FileState.INGESTED
    )


def test_it_keeps_ingested_files_whose_raw_fits_was_deleted(fake_archive, data_root: Path) -> None:  # noqa: ANN001
    run(mission="kepler", identifiers=[KEPLER90], seasons=[3])
    row = ArchiveFile.objects.get(state=FileState.INGESTED)
    (data_root / row.local_path).unlink()  # e.g. raw files removed to save disk after ingest
    assert run(mission="kepler", identifiers=[KEPLER90], seasons=[3])["fetched"] == 0


def test_it_fetches_and_ingests_again_a_file_whose_light_curve_was_deleted(
    fake_archive, data_root: Path
) -> None:  # noqa: ANN001
    run(mission="kepler", identifiers=[KEPLER90], seasons=[3])
    row = ArchiveFile.objects.get(state=FileState.INGESTED)
    (data_root / row.local_path).unlink()
    LightCurve.objects.all().delete()
    report = run(mission="kepler", identifiers=[KEPLER90], seasons=[3])
    assert report["fetched"] == 1 and (data_root / row.local_path).is_file()
    assert LightCurve.objects.count() == 1 and report["counts"]["ingested"] == 1


def test_it_ingests_again_without_fetching_when_the_raw_file_is_still_there(
    fake_archive, data_root: Path
) -> None:  # noqa: ANN001
    run(mission="kepler", identifiers=[KEPLER90], seasons=[3])
    LightCurve.objects.all().delete()
    report = run(mission="kepler", identifiers=[KEPLER90], seasons=[3])
    assert report["fetched"] == 0 and LightCurve.objects.count() == 1


def test_it_finds_tess_files_through_the_cached_sector_script(
    fake_archive, data_root: Path
) -> None:  # noqa: ANN001
    report = run(mission="tess", identifiers=["TIC 25155310"], seasons=[1])
    assert report["counts"]["ingested"] == 1 and report["files"] == 1
    assert LightCurve.objects.get().target.identifier == "25155310"
    sector_1 = [n for n in fake_archive.files if TESS_NAME.match(n) and parse_name(n).season == 1]
    assert TessSector.objects.get(sector=1).n_files == len(sector_1) >= 2  # the demo TESS files
    run(mission="tess", identifiers=[231663901], seasons=[1])
    scripts = [e for e in fake_archive.log if e.path.endswith(".sh")]
    assert len(scripts) == 1 and LightCurve.objects.count() == 2


def test_it_downloads_both_parts_of_a_split_k2_campaign_under_the_campaign(
    fake_archive, data_root: Path
) -> None:  # noqa: ANN001
    report = run(mission="k2", identifiers=["EPIC 201437844"], seasons=[10])
    files = ArchiveFile.objects.filter(mission="k2").order_by("filename")
    # c101 (the first ~6 days of C10) is not in the demo folder: the fake archive has no such file
    assert [f.filename for f in files] == [
        "ktwo201437844-c101_llc.fits",
        "ktwo201437844-c102_llc.fits",
    ]
    assert report["counts"]["ingested"] == 1 and report["counts"]["not_observed"] == 1
    row = LightCurve.objects.get()
    assert (row.mission, row.target.identifier, row.quarter_or_sector) == ("k2", "201437844", 10)
    assert files.get(state=FileState.INGESTED).quarter_or_sector == row.quarter_or_sector


def test_it_records_sectors_without_a_script_as_unavailable(fake_archive, data_root: Path) -> None:  # noqa: ANN001
    report = run(mission="tess", identifiers=[25155310], seasons=[1, 2])
    assert report["files"] == 1
    assert TessSector.objects.get(sector=2).available is False


def test_it_downloads_the_hosts_of_a_catalogue(fake_archive, data_root: Path) -> None:  # noqa: ANN001
    rows = [
        {
            "kepid": KEPLER90,
            "tce_plnt_num": 1,
            "tce_period": 331.6,
            "tce_time0bk": 140.5,
            "tce_duration": 15.0,
        },
        {
            "kepid": ECLIPSING_BINARY,
            "tce_plnt_num": 1,
            "tce_period": 10.3,
            "tce_time0bk": 131.0,
            "tce_duration": 5.0,
        },
    ]
    catalog_import_table(name="dr24_tce", path_or_rows=rows)
    report = run(catalog="dr24", limit=1, seasons=[3])
    assert report["files"] == 1 and report["request"]["mission"] == "kepler"
    assert ArchiveFile.objects.get().filename.startswith("kplr011442793")


def test_it_reads_a_local_mirror_through_the_same_code_path(
    demo_data: Path, data_root: Path, settings
) -> None:  # noqa: ANN001
    settings.GAIA_ARCHIVE_MIRROR_ROOT = str(demo_data / "kepler")  # never a job parameter
    report = run(mission="kepler", identifiers=[KEPLER90], source="mirror")
    assert report["counts"]["ingested"] == 3 and report["source"].startswith("mirror:")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"mission": "hubble", "identifiers": [1]}, "unknown mission 'hubble'"),
        ({"mission": "kepler", "identifiers": ["abc"]}, "'abc' is not a KIC number"),
        ({"mission": "tess", "identifiers": [0]}, "TIC 0 is out of range"),
        ({"mission": "kepler", "identifiers": []}, "give at least one identifier"),
        ({"catalog": "dr99"}, "unknown catalogue 'dr99'"),
        ({"mission": "kepler", "identifiers": [5], "seasons": [18]}, "Kepler has no quarter 18"),
        ({"mission": "kepler", "identifiers": [5], "source": "mirror"}, "needs a mirror folder"),
        ({"catalog": "dr24"}, "import the table first"),
    ],
)
def test_it_refuses_bad_requests_with_a_clear_message(
    spec: dict, message: str, data_root: Path
) -> None:
    with pytest.raises(InvalidInput, match=message):
        run(**spec)


def test_it_leaves_alone_a_file_that_another_run_is_fetching(fake_archive, data_root: Path) -> None:  # noqa: ANN001
    names = kepler_names(KEPLER90, quarters=[3, 5])
    taken, free = ledger_ensure(names=names)
    with AdvisoryClaims() as other_run:
        assert other_run.acquire(taken.pk)
        report = run(mission="kepler", identifiers=[KEPLER90], seasons=[3, 5])
    assert report["busy_elsewhere"] == 1 and not fake_archive.requests_for(taken.filename)
    assert ArchiveFile.objects.get(pk=free.pk).state == FileState.INGESTED
    assert ArchiveFile.objects.get(pk=taken.pk).state == FileState.PENDING
    assert run(mission="kepler", identifiers=[KEPLER90], seasons=[3, 5])["fetched"] == 1
