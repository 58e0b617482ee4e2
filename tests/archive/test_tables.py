"""Catalogue imports into Target/TCE: local exports and TAP, idempotent, with clear errors."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from apps.archive.errors import ArchiveUnavailable
from apps.archive.services import (
    catalog_import_local_tables,
    catalog_import_table,
    catalog_import_tap,
)
from apps.catalog.models import TCE, Target, TCESource
from apps.core.errors import InvalidInput

pytestmark = pytest.mark.django_db


def count_rows(path: Path) -> int:
    with open(path) as handle:
        return sum(1 for _ in csv.DictReader(line for line in handle if not line.startswith("#")))


def test_it_imports_the_local_tables_once_however_often_it_runs(demo_data: Path) -> None:
    folder = demo_data / "catalogs"
    first = catalog_import_local_tables(demo_dir=demo_data)
    dr24 = TCE.objects.filter(source=TCESource.KEPLER_DR24, release="DR24")
    dr25 = TCE.objects.filter(source=TCESource.KEPLER_DR25, release="DR25")
    assert dr24.count() == count_rows(next(folder.glob("q1_q17_dr24_tce*.csv")))
    assert dr25.count() == count_rows(next(folder.glob("q1_q17_dr25_tce*.csv")))
    assert first["tables"]["dr24_tce"]["tces_created"] == dr24.count()
    targets = Target.objects.count()
    second = catalog_import_local_tables(demo_dir=demo_data)
    assert (dr24.count(), dr25.count(), Target.objects.count()) == (
        first["tables"]["dr24_tce"]["tces_created"], first["tables"]["dr25_tce"]["tces_created"], targets
    )  # fmt: skip
    assert second["tables"]["dr24_tce"]["tces_created"] == 0
    assert second["tables"]["dr24_tce"]["tces_updated"] == dr24.count()
    assert second["tables"]["koi"]["targets_created"] == 0


def test_it_names_kepler_90_and_keeps_the_dr24_labels(demo_data: Path) -> None:
    catalog_import_local_tables(demo_dir=demo_data, names=["dr24_tce", "koi"])
    kepler90 = Target.objects.get(mission="kepler", identifier="11442793")
    assert kepler90.name == "Kepler-90" and "KOI-351" in kepler90.aliases
    assert {"kepler-90", "koi-351", "kic 11442793"} <= set(kepler90.search_names)
    dr24 = TCE.objects.get(target=kepler90, source=TCESource.KEPLER_DR24, tce_number=1)
    assert dr24.disposition == "PC" and dr24.epoch_system == "BKJD"
    eb = Target.objects.get(mission="kepler", identifier="2306740")
    assert set(
        TCE.objects.filter(target=eb, source=TCESource.KEPLER_DR24).values_list(
            "disposition", flat=True
        )
    ) == {"AFP"}


def test_it_takes_dr25_stellar_parameters_and_depths_from_the_fold_table(demo_data: Path) -> None:
    path = next((demo_data / "catalogs").glob("q1_q17_dr25_tce*.csv"))
    with open(path) as handle:
        row = next(csv.DictReader(handle))
    catalog_import_table(name="dr25_tce", path_or_rows=path)
    target = Target.objects.get(mission="kepler", identifier=row["target_id"])
    assert (
        target.teff == float(row["tce_steff"])
        and target.stellar_source == "Kepler DR25 (TCE table)"
    )
    tce = TCE.objects.get(
        target=target, source=TCESource.KEPLER_DR25, tce_number=int(row["tce_plnt_num"])
    )
    assert tce.depth_ppm == float(row["transit_depth"]) and tce.mes == float(row["tce_max_mult_ev"])
    assert tce.extra["label"] == row["label"]


def test_it_imports_tap_tables_idempotently(fake_archive, data_root: Path) -> None:  # noqa: ANN001
    first = catalog_import_tap(names=["dr24_tce", "toi"], limit=40)
    second = catalog_import_tap(names=["dr24_tce", "toi"], limit=40)
    assert first["tables"]["dr24_tce"]["tces_created"] == 40
    assert (
        second["tables"]["dr24_tce"]["tces_created"] == 0
        and second["tables"]["toi"]["tces_created"] == 0
    )
    assert TCE.objects.filter(source=TCESource.KEPLER_DR24).count() == 40
    wasp126 = TCE.objects.get(source=TCESource.TESS_TOI, target__identifier="25155310")
    assert (
        wasp126.epoch_system == "BTJD"
        and 1300 < wasp126.epoch < 1400
        and wasp126.disposition == "KP"
    )
    assert wasp126.target.name == "TOI-114"
    assert sorted(p.name.split("-")[0] for p in (data_root / "archive" / "tables").glob("*.csv")) == [
        "q1_q17_dr24_tce", "q1_q17_dr24_tce", "toi", "toi",
    ]  # fmt: skip


def test_it_reports_a_tap_error_answer_instead_of_importing_it(
    fake_archive, data_root: Path
) -> None:  # noqa: ANN001
    with pytest.raises(ArchiveUnavailable, match="q1_q17_dr25_stellar"):
        catalog_import_tap(names=["stellar"])


def test_it_refuses_unknown_tables_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="unknown catalogue table 'dr99'"):
        catalog_import_table(name="dr99", path_or_rows=[])
    with pytest.raises(InvalidInput, match="does not exist"):
        catalog_import_table(name="dr24_tce", path_or_rows=tmp_path / "nope.csv")
    with pytest.raises(InvalidInput, match="lacks column"):
        catalog_import_table(name="dr24_tce", path_or_rows=[{"kepid": 1}])
