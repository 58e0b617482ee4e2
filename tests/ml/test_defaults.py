"""Per-mission default models, and every score on the site naming its model with a domain warning."""

from __future__ import annotations

import json

import pytest

from apps.catalog.models import TCE, Mission
from apps.jobs.models import Artifact
from apps.ml.models import ModelVersion, Prediction
from apps.ml.science.registry import DEFAULT_MODELS_DIR, ModelManifest
from apps.ml.selectors import default_version
from apps.ml.services import modelversion_resolve, scores_publish_defaults
from tests.factories import TargetFactory, TCEFactory

pytestmark = pytest.mark.django_db


def shipped_row(name: str, *, default: bool) -> ModelVersion:
    """A row for a shipped model with its real manifest (training domain included), without loading
    the weights: what ``modelversion_register`` records, minus the validation curves."""
    manifest = ModelManifest.from_file(DEFAULT_MODELS_DIR / f"{name}.json")
    weights = Artifact.objects.create(kind="model_weights", key=f"model/{name}", version=1, path=f"models/{name}.pt",
                                      sha256=manifest.weights_sha256)
    return ModelVersion.objects.create(
        name=name, task=manifest.task, preset=manifest.preset, weights_sha256=manifest.weights_sha256,
        weights=weights, manifest=json.loads(manifest.to_json()), metrics=manifest.metrics,
        temperature=manifest.temperature, is_default=default,
    )


@pytest.fixture
def shipped():
    return {
        "views": shipped_row("yu2019_triage", default=True),
        "scalars": shipped_row("yu2019_triage_scalars", default=False),
    }


def scored(tce: TCE, version: ModelVersion, probability: float) -> None:
    Prediction.objects.create(tce=tce, model_version=version, raw_score=probability, probability=probability,
                              views_version=1)


def tess_tce(**fields) -> TCE:
    target = TargetFactory(mission=Mission.TESS, identifier=str(25155310 + TCE.objects.count()))
    return TCEFactory(target=target, mission=Mission.TESS, epoch_system="BTJD", **fields)


def test_each_mission_gets_its_default_and_the_scores_follow_it(shipped):
    assert default_version("triage", "tess") == shipped["scalars"]
    assert default_version("triage", "kepler") == shipped["views"] == default_version("triage", "k2")
    assert default_version("triage") == shipped["views"]  # mission unknown: the task default
    assert modelversion_resolve(task="triage", mission="tess") == shipped["scalars"]
    kepler, tess = TCEFactory(), tess_tce()
    for tce in (kepler, tess):
        scored(tce, shipped["views"], 0.25)
        scored(tce, shipped["scalars"], 0.75)
    scores_publish_defaults()
    kepler.refresh_from_db()
    tess.refresh_from_db()
    assert (kepler.score, tess.score) == (0.25, 0.75)


def test_a_model_the_team_makes_default_serves_every_mission(shipped):
    team = shipped_row("yu2019_vetting", default=False)  # any other row of the task
    team.task = "triage"
    team.save(update_fields=["task"])
    ModelVersion.objects.filter(pk=shipped["views"].pk).update(is_default=False)
    ModelVersion.objects.filter(pk=team.pk).update(is_default=True)
    assert default_version("triage", "tess") == team == default_version("triage", "kepler")


def test_scores_name_their_model_and_warn_outside_the_training_domain(client, shipped):
    kepler = TCEFactory(period_days=3.2)
    long_period = tess_tce(period_days=400.0)
    in_domain = tess_tce(period_days=5.0)
    scored(kepler, shipped["views"], 0.4)
    scored(long_period, shipped["scalars"], 0.6)
    scored(in_domain, shipped["scalars"], 0.9)
    scores_publish_defaults()

    rows = {row.split("</td>")[0]: row for row in client.get("/tces/").content.decode().split("<tr><td>")[1:]}
    row_of = {tce.pk: next(r for r in rows.values() if f"/tces/{tce.pk}/" in r) for tce in (kepler, long_period, in_domain)}
    assert "yu2019_triage<" in row_of[kepler.pk] and "not on KEPLER data" in row_of[kepler.pk]
    assert "yu2019_triage_scalars" in row_of[long_period.pk] and "trained on periods 0.1–105.331 d" in row_of[long_period.pk]
    assert "yu2019_triage_scalars" in row_of[in_domain.pk] and "model-warning" not in row_of[in_domain.pk]

    page = client.get(f"/tces/{kepler.pk}/").content.decode()
    assert "yu2019_triage" in page and "⚠ trained on TESS 30-min full-frame images" in page and "not on KEPLER data" in page

    api = client.get(f"/api/ml/tces/{long_period.pk}/score").json()
    assert api["score"] == 0.6 and api["model"]["name"] == "yu2019_triage_scalars"
    assert "this TCE's period is 400 d" in api["domain_warning"]
    assert client.get(f"/api/ml/tces/{in_domain.pk}/score").json()["domain_warning"] is None
    predictions = client.get(f"/api/ml/tces/{kepler.pk}/predictions").json()
    assert predictions[0]["model_weights_sha256"] == shipped["views"].weights_sha256
    assert "not on KEPLER data" in predictions[0]["domain_warning"]

    card = client.get(f"/models/{shipped['scalars'].pk}/").content.decode()
    assert "TESS triage" in card and "periods 0.1–105.3307 d" in card and "Cross-validation (5 folds by star)" in card


def test_scoring_without_a_model_named_runs_each_missions_default_on_its_tces(shipped):
    from apps.ml.services import infer_plan

    kepler, tess = TCEFactory(), tess_tce()
    plan = {version.name: set(tces.values_list("pk", flat=True)) for version, tces in infer_plan({"missing": True, "task": "triage"})}
    assert plan == {"yu2019_triage": {kepler.pk}, "yu2019_triage_scalars": {tess.pk}}
    named = infer_plan({"tce_ids": [kepler.pk, tess.pk], "task": "triage", "model": "yu2019_triage"})
    assert [(v.name, set(t.values_list("pk", flat=True))) for v, t in named] == [("yu2019_triage", {kepler.pk, tess.pk})]
