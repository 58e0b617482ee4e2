"""The labels snapshot: the rules, byte-identical exports, catalogue labels only when asked, the job."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest
from django.core.management import call_command

from apps.jobs.foreground import run_in_foreground
from apps.jobs.models import Artifact
from apps.vetting.models import CatalogLabel
from apps.vetting.services import adjudicate, catalog_labels_import, label_add, labels_export
from tests.factories import TargetFactory, TCEFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def labelled(vetter, vetters, adjudicator):
    """Agreed PC, adjudicated EB (after a conflict), a conflict, one short of labels, one agreed with a new ephemeris."""
    agreed, adjudicated, conflict, short, ephemeris = (TCEFactory() for _ in range(5))
    label_add(tce=agreed, user=vetter, label="PC")
    label_add(tce=agreed, user=vetters[0], label="PC")
    label_add(tce=adjudicated, user=vetter, label="PC")
    label_add(tce=adjudicated, user=vetters[0], label="EB")
    adjudicate(tce=adjudicated, user=adjudicator, label="EB", reason="secondary at phase 0.5")
    label_add(tce=conflict, user=vetter, label="V")
    label_add(tce=conflict, user=vetters[0], label="IS")
    label_add(tce=short, user=vetter, label="J")
    label_add(tce=ephemeris, user=vetter, label="EB", period=20.0, epoch=140.0, duration=4.0)
    label_add(tce=ephemeris, user=vetters[1], label="EB")
    return {"agreed": agreed, "adjudicated": adjudicated, "conflict": conflict, "short": short, "ephemeris": ephemeris}


def test_it_exports_adjudicated_then_agreed_labels_with_ephemerides(labelled, tmp_path):
    manifest = labels_export(out_dir=tmp_path)
    rows = {row["tce_id"]: row for row in pq.read_table(tmp_path / "labels.parquet").to_pylist()}
    assert set(rows) == {labelled[k].pk for k in ("agreed", "adjudicated", "ephemeris")}
    assert rows[labelled["adjudicated"].pk]["rule"] == "adjudicated" and rows[labelled["adjudicated"].pk]["label"] == "EB"
    assert rows[labelled["agreed"].pk]["rule"] == "agreed" and rows[labelled["agreed"].pk]["n_labels"] == 2
    ephemeris = rows[labelled["ephemeris"].pk]
    # the newest label equal to the final one carries no proposal; the period 10 d is the catalogue's
    assert ephemeris["period_days"] == 10.0 and ephemeris["proposed_period_days"] is None
    assert manifest["counts"] == {"people": {"PC": 1, "EB": 2}} and manifest["counts_by_rule"] == {"adjudicated": 1, "agreed": 2}
    assert manifest["include_sources"] == [] and manifest["labels_per_tce"] == 2
    assert len(manifest["snapshot_id"]) == 64 and "created" not in json.dumps(manifest)
    on_disk = json.loads((tmp_path / "manifest.json").read_text())
    assert on_disk == manifest and list(on_disk) == sorted(on_disk)


def test_exporting_the_same_labels_twice_gives_identical_bytes(labelled, tmp_path, vetter):
    labels_export(out_dir=tmp_path / "a")
    labels_export(out_dir=tmp_path / "b")
    for name in ("labels.parquet", "manifest.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    first = json.loads((tmp_path / "a" / "manifest.json").read_text())["snapshot_id"]
    label_add(tce=labelled["short"], user=vetter, label="J")
    # vera's newest label on "short" is J again: no new final label, same snapshot
    assert labels_export(out_dir=tmp_path / "c")["snapshot_id"] == first


def test_a_new_final_label_changes_the_snapshot(labelled, tmp_path, vetters):
    first = labels_export(out_dir=tmp_path / "a")["snapshot_id"]
    label_add(tce=labelled["short"], user=vetters[2], label="J")
    assert labels_export(out_dir=tmp_path / "b")["snapshot_id"] != first


def test_catalogue_labels_come_only_from_named_sources_and_rows_of_their_own(labelled, demo_data, settings, tmp_path):
    settings.GAIA_DEMO_DATA = demo_data
    # Two DR24 TCEs of the demo table: KIC 1162345 planet 2 is an AFP; KIC 11442793 (Kepler-90) has PCs.
    afp = TCEFactory(target=TargetFactory(identifier="1162345"), tce_number=2)
    report = catalog_labels_import(source="dr24")
    assert report["matched"] >= 1 and CatalogLabel.objects.get(tce=afp).label == "FP"
    assert CatalogLabel.objects.get(tce=afp).original == "AFP"
    plain = labels_export(out_dir=tmp_path / "plain")
    assert plain["include_sources"] == [] and "dr24" not in plain["counts"]
    mixed = labels_export(out_dir=tmp_path / "mixed", include_sources=["dr24"])
    rows = pq.read_table(tmp_path / "mixed" / "labels.parquet").to_pylist()
    assert mixed["include_sources"] == ["dr24"] and mixed["counts"]["dr24"] == {"FP": 1}
    assert [r["source"] for r in rows if r["tce_id"] == afp.pk] == ["dr24"]
    assert mixed["snapshot_id"] != plain["snapshot_id"]


def test_the_dr25_robovetter_flags_pick_the_false_positive_kind(demo_data, settings):
    settings.GAIA_DEMO_DATA = demo_data
    # 000757099-01 is an FP with the not-transit-like flag only; 000757450-01 a PC.
    junk = TCEFactory(target=TargetFactory(identifier="757099"), tce_number=1, source="kepler_dr25", release="DR25")
    planet = TCEFactory(target=TargetFactory(identifier="757450"), tce_number=1, source="kepler_dr25", release="DR25")
    catalog_labels_import(source="dr25")
    assert CatalogLabel.objects.get(tce=junk).label == "J" and CatalogLabel.objects.get(tce=junk).original == "FP (NT)"
    assert CatalogLabel.objects.get(tce=planet).label == "PC"


def test_the_command_and_the_job_write_the_same_snapshot(labelled, tmp_path, capsys):
    call_command("export_labels", "--out", str(tmp_path))
    snapshot = json.loads((tmp_path / "manifest.json").read_text())["snapshot_id"]
    job = run_in_foreground(kind="export_labels", params={}, show_progress=False)
    assert job.status == "succeeded", job.error_summary
    assert job.result["snapshot_id"] == snapshot
    stored = Artifact.objects.get(pk=job.result["artifact_id"])
    assert stored.kind == "labels_snapshot" and stored.sha256 == json.loads((tmp_path / "manifest.json").read_text())[
        "files"]["labels.parquet"]["sha256"]
    again = run_in_foreground(kind="export_labels", params={}, show_progress=False)
    assert again.result["artifact_id"] == stored.pk  # the same snapshot adds no version
