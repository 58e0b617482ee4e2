"""Registering model versions and scoring TCEs through the site (real database, real views)."""

from __future__ import annotations

import pytest
import torch

from apps.core.errors import InvalidInput
from apps.lightcurves.services import target_process
from apps.ml.models import ModelVersion, Prediction
from apps.ml.science.networks import build_model, preset_config
from apps.ml.science.registry import save_model
from apps.ml.services import modelversion_register, modelversion_resolve, tces_score
from tests.factories import TargetFactory, TCEFactory, lightcurve_from_fits

pytestmark = pytest.mark.django_db


@pytest.fixture
def tiny_model(tmp_path):
    torch.manual_seed(0)
    model = build_model(preset_config("yu2019_triage"))
    return save_model(model, tmp_path, "tiny_triage", task="triage", temperature=1.5, dtype="float32")


@pytest.fixture
def processed_tce(demo_data):
    target = TargetFactory(identifier="10874614", name="Kepler-6")
    lightcurve_from_fits(target, demo_data / "kepler" / "kplr010874614-2009131105131_llc.fits", quarter=0)
    tce = TCEFactory(target=target, period_days=3.2347, epoch=134.425, duration_hours=3.584, disposition="PC")
    target_process(target=target, presets=["yu2019"])
    return tce


def test_it_registers_a_model_once_and_makes_it_default(tiny_model):
    first = modelversion_register(manifest_path=tiny_model, make_default=True)
    again = modelversion_register(manifest_path=tiny_model, make_default=True)
    assert first.pk == again.pk and first.is_default
    assert modelversion_resolve(task="triage") == first
    assert modelversion_resolve(name_or_id="tiny_triage") == first


def test_it_refuses_a_model_whose_weights_changed(tiny_model):
    weights = tiny_model.with_suffix(".pt")
    weights.write_bytes(weights.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(InvalidInput, match="sha256"):
        modelversion_register(manifest_path=tiny_model)


def test_it_scores_tces_and_adds_rows_when_rescored(tiny_model, processed_tce):
    version = modelversion_register(manifest_path=tiny_model, make_default=True)
    report = tces_score(tces=[processed_tce], version=version)
    assert report["scored"] == 1 and report["skipped"] == {}
    prediction = Prediction.objects.get(tce=processed_tce)
    assert 0 <= prediction.probability <= 1 and prediction.views_version == 1
    # temperature 1.5 pulls the calibrated probability towards 0.5
    assert abs(prediction.probability - 0.5) <= abs(prediction.raw_score - 0.5) + 1e-9
    from tests.factories import JobFactory

    tces_score(tces=[processed_tce], version=version, job=JobFactory())
    assert Prediction.objects.filter(tce=processed_tce).count() == 2
    assert ModelVersion.objects.count() == 1


def test_it_skips_tces_without_views_and_says_why(tiny_model):
    version = modelversion_register(manifest_path=tiny_model)
    tce = TCEFactory()
    report = tces_score(tces=[tce], version=version)
    assert report["scored"] == 0 and "process the target" in report["skipped"][tce.label]


def test_it_shows_the_score_on_the_tce_page_and_sorts_the_list(client, tiny_model, processed_tce):
    version = modelversion_register(manifest_path=tiny_model, make_default=True)
    tces_score(tces=[processed_tce], version=version)
    page = client.get(f"/tces/{processed_tce.pk}/").content.decode()
    assert "Classifier scores" in page and "tiny_triage" in page
    items = client.get("/api/tces", {"sort": "-score"}).json()["items"]
    assert items[0]["id"] == processed_tce.pk and items[0]["score"] is not None
    assert client.get(f"/models/{version.pk}/").status_code == 200
    assert client.get(f"/api/ml/tces/{processed_tce.pk}/predictions").json()[0]["model_name"] == "tiny_triage"


def test_it_trains_and_registers_a_model_as_a_job(settings, demo_data):
    from apps.jobs.foreground import run_in_foreground

    settings.GAIA_DEMO_DATA = demo_data
    job = run_in_foreground(
        kind="train_model", params={"task": "triage", "epochs": 1, "max_examples": 300}, show_progress=False
    )
    assert job.status == "succeeded", job.error_summary
    version = ModelVersion.objects.get(pk=job.result["model_version"])
    assert version.created_by == job and 0 <= version.metrics["validation"]["average_precision"] <= 1
    assert job.progress_done > 0 and job.timings


def test_it_registers_the_shipped_models_with_validation_curves_on_their_card(settings, demo_data, client):
    from apps.ml.services import modelversion_register_shipped

    settings.GAIA_DEMO_DATA = demo_data
    registered = modelversion_register_shipped()
    versions = {v.task: v for v in registered if v.is_default}
    triage = versions["triage"]
    assert {v.name for v in registered} >= {"yu2019_triage", "yu2019_vetting", "yu2019_triage_scalars", "yu2019_vetting_transit"}
    assert next(v for v in registered if v.name == "yu2019_vetting_transit").is_default  # its inputs our pipeline computes
    assert not next(v for v in registered if v.name == "yu2019_triage_scalars").is_default
    assert triage.is_default and triage.metrics["validation"]["average_precision"] > 0.9
    roc = triage.metrics["curves"]["roc"]
    assert roc["fpr"][0] == 0.0 and roc["tpr"][-1] == pytest.approx(1.0)
    page = client.get(f"/models/{triage.pk}/").content.decode()
    assert "ROC (validation)" in page and "Reliability" in page and "average_precision" in page


def test_it_refuses_to_score_with_a_model_needing_features_the_pipeline_lacks(settings, demo_data, processed_tce):
    from apps.ml.services import modelversion_register_shipped

    settings.GAIA_DEMO_DATA = demo_data
    registered = {v.name: v for v in modelversion_register_shipped()}
    with pytest.raises(InvalidInput, match="depth_change"):
        tces_score(tces=[processed_tce], version=registered["yu2019_vetting"])
    assert not Prediction.objects.exists()
    default = registered["yu2019_vetting_transit"]  # the vetting default: every input computed here
    assert default.is_default and tces_score(tces=[processed_tce], version=default)["scored"] == 1


@pytest.fixture
def tiny_scalar_model(tmp_path):
    """A triage model reading Period, Duration, SN, Transit_Depth (TFRecord units: d, d, -, ppm)."""
    torch.manual_seed(0)
    names = ["Period", "Duration", "SN", "Transit_Depth"]
    config = preset_config(
        "yu2019_triage",
        hidden_size=16,
        hidden_layers=1,
        scalar_names=names,
        scalar_center=[1.0, 0.1, 3.0, 8.0],
        scalar_scale=[1.0, 0.1, 1.0, 2.0],
    )
    model = build_model(config)
    return save_model(model, tmp_path, "tiny_scalars", task="triage", dtype="float32")


def test_it_feeds_scalar_models_tce_columns_in_training_units(tiny_scalar_model, processed_tce):
    from apps.lightcurves.selectors import tce_views_latest
    from apps.ml.science.inference import score
    from apps.ml.science.registry import load_model

    processed_tce.depth_ppm, processed_tce.snr = 9_000.0, 250.0
    processed_tce.save()
    version = modelversion_register(manifest_path=tiny_scalar_model)
    report = tces_score(tces=[processed_tce], version=version)
    assert report == {"model": str(version), "model_version": version.pk, "scored": 1, "skipped": {}}
    arrays, _ = tce_views_latest(tce_id=processed_tce.pk, preset="yu2019")
    views = {name: arrays[name] for name in ("global_view", "local_view")}
    loaded = load_model(tiny_scalar_model)
    # duration 3.584 h = 0.14933 d, the unit of the Yu et al. 2019 TFRecords' Duration
    expected = score(loaded.model, views, [[3.2347, 3.584 / 24, 250.0, 9_000.0]]).raw[0]
    wrong_unit = score(loaded.model, views, [[3.2347, 3.584, 250.0, 9_000.0]]).raw[0]
    got = Prediction.objects.get(tce=processed_tce).raw_score
    assert got == pytest.approx(expected, abs=1e-6) and expected != pytest.approx(wrong_unit, abs=1e-6)


def test_it_skips_tces_lacking_a_scalar_the_model_needs(tiny_scalar_model, processed_tce):
    processed_tce.depth_ppm, processed_tce.snr = 9_000.0, None
    processed_tce.save()
    version = modelversion_register(manifest_path=tiny_scalar_model)
    report = tces_score(tces=[processed_tce], version=version)
    assert report["scored"] == 0 and "no snr" in report["skipped"][processed_tce.label]
    assert not Prediction.objects.exists()


def test_cross_validation_recorded_after_registration_reaches_the_model_card(client, tiny_model):
    from apps.ml.science.crossval import summarise
    from apps.ml.science.registry import ModelManifest, update_manifest

    version = modelversion_register(manifest_path=tiny_model)
    rows = [{"fold": f, "n_test": 40, "positives_test": 6, "average_precision": ap, "accuracy": 0.9, "roc_auc": 0.8,
             "precision": 0.5, "recall": 0.5} for f, ap in enumerate((0.61, 0.73, 0.67))]
    figures = {"k": 3, "seed": 0, "n": 120, "positives": 18, "folds": rows, "summary": summarise(rows)}
    manifest = ModelManifest.from_file(tiny_model)
    update_manifest(tiny_model, metrics={**manifest.metrics, "cross_validation": figures})  # what --cv-into does
    again = modelversion_register(manifest_path=tiny_model)
    assert again.pk == version.pk and again.metrics["cross_validation"]["summary"]["average_precision"]["mean"] == pytest.approx(0.67)
    page = client.get(f"/models/{version.pk}/").content.decode()
    assert "Cross-validation (3 folds by star)" in page and "0.6700" in page and "0.7300" in page
