"""Catalogue writes: the functions every app goes through to create, update and delete targets,
TCEs and light curves."""

from __future__ import annotations

import pytest
from django.utils import timezone

from apps.catalog import services
from apps.catalog.models import TCE, Cadence, LightCurve, Mission, Target, TCESource
from apps.core.files import data_root
from tests.factories import TargetFactory

pytestmark = pytest.mark.django_db


def test_targets_upsert_creates_then_fills_only_what_a_header_lacks():
    ids, counts = services.targets_upsert(
        mission=Mission.KEPLER, rows=[{"identifier": 11442793, "teff": 6000.0, "ra": float("nan")}],
        stellar_source="catalogue",
    )
    assert counts == {"created": 1, "updated": 0}
    target = Target.objects.get(pk=ids["11442793"])
    assert (target.teff, target.ra, target.stellar_source) == (6000.0, None, "catalogue")
    _ids, counts = services.targets_upsert(
        mission=Mission.KEPLER, rows=[{"identifier": "11442793", "teff": 5000.0, "logg": 4.1}],
        stellar_source="header", fill_only=True,
    )
    target.refresh_from_db()
    assert counts == {"created": 0, "updated": 1}
    assert (target.teff, target.logg, target.stellar_source) == (6000.0, 4.1, "catalogue")


def test_target_names_add_names_an_existing_target_and_creates_none():
    target = TargetFactory(identifier="11442793", aliases=["KOI-351"])
    assert services.target_names_add(mission=Mission.KEPLER, identifier="11442793", name="Kepler-90",
                                     aliases=["KOI-351", "KIC 11442793"])
    target.refresh_from_db()
    assert target.name == "Kepler-90"
    assert target.aliases == ["KIC 11442793", "KOI-351"]
    assert "kepler-90" in target.search_names
    assert not services.target_names_add(mission=Mission.TESS, identifier="1", name="x", aliases=[])
    assert Target.objects.count() == 1


def _tce_row(target: Target, number: int, period: float) -> list:
    now = timezone.now()
    return [target.pk, target.mission, number, period, 135.0, "BKJD", 3.0, 100.0, 10.0, 11.0,
            TCESource.KEPLER_DR24, "DR24", "PC", {}, now, now]


def test_tces_upsert_updates_rows_of_the_same_key_in_place():
    target = TargetFactory()
    assert services.tces_upsert(rows=[_tce_row(target, 1, 10.0), _tce_row(target, 2, 20.0)]) == 2
    progress = []
    created = services.tces_upsert(rows=[_tce_row(target, 1, 11.0)], on_progress=lambda *a: progress.append(a))
    assert created == 0 and progress == [(1, 1)]
    assert sorted(TCE.objects.values_list("tce_number", "period_days")) == [(1, 11.0), (2, 20.0)]


def test_tces_record_numbers_signals_and_a_second_record_of_the_release_adds_no_rows():
    target = TargetFactory()
    signal = {"mission": target.mission, "period_days": 5.0, "epoch": 131.0, "epoch_system": "BKJD",
              "duration_hours": 2.0, "disposition": "UNK"}
    found = services.tces_record(target=target, source=TCESource.SEARCH, release="job1",
                                 signals=[signal, {**signal, "period_days": 7.0}])
    assert [t.tce_number for t in found] == [1, 2]
    again = services.tces_record(target=target, source=TCESource.SEARCH, release="job1",
                                 signals=[{**signal, "period_days": 6.0}])
    assert again[0].pk == found[0].pk
    assert sorted(TCE.objects.values_list("period_days", flat=True)) == [6.0, 7.0]


def _curve(target: Target, name: str, path: str) -> LightCurve:
    return LightCurve(target=target, mission=target.mission, quarter_or_sector=1, cadence=Cadence.LONG,
                      n_points=10, time_start=0.0, time_end=1.0, time_system="BKJD", parquet_path=path,
                      source_filename=name, source_sha256="0" * 64)


def test_lightcurves_upsert_reports_the_old_series_and_delete_removes_rows_and_files():
    target = TargetFactory()
    assert services.lightcurves_upsert(rows=[_curve(target, "a.fits", "a1.parquet")]) == {}
    old = services.lightcurves_upsert(rows=[_curve(target, "a.fits", "a2.parquet"), _curve(target, "b.fits", "b.parquet")])
    assert old == {"a.fits": "a1.parquet"}
    assert LightCurve.objects.get(source_filename="a.fits").parquet_path == "a2.parquet"
    for name in ("a2.parquet", "b.parquet"):
        (data_root() / name).write_bytes(b"series")
    assert services.lightcurves_delete(source_filenames=["a.fits"]) == 1
    assert not (data_root() / "a2.parquet").exists() and (data_root() / "b.parquet").exists()
    assert list(LightCurve.objects.values_list("source_filename", flat=True)) == ["b.fits"]
