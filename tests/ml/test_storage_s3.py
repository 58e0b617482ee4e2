"""A model registered while products are on an S3 object store (a local moto server,
tests/s3server.py): weights and manifest go to the bucket and scoring loads them from there."""

from __future__ import annotations

import pytest

from apps.archive.services.ingest import lightcurves_ingest_files
from apps.core.files import resolve_data_path
from apps.lightcurves.services import target_process
from apps.ml import services
from apps.ml.models import Prediction
from tests.factories import TCEFactory
from tests.ml.test_services import tiny_model  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


def test_a_model_in_the_bucket_scores_tces(s3_products, tiny_model, demo_data):  # noqa: F811
    [outcome] = lightcurves_ingest_files(paths=[demo_data / "kepler" / "kplr010874614-2009131105131_llc.fits"])
    tce = TCEFactory(target=outcome.lightcurve.target, period_days=3.2347, epoch=134.425, duration_hours=3.584)
    target_process(target=tce.target, presets=["yu2019"])
    version = services.modelversion_register(manifest_path=tiny_model, make_default=True)
    weights = version.weights.path
    manifest = weights.rsplit(".", 1)[0] + ".json"
    assert {weights, manifest} <= set(s3_products.keys())
    assert not resolve_data_path(weights).exists() and not resolve_data_path(manifest).exists()
    services._loaded.cache_clear()  # load from the bucket, not from an earlier test's memory
    report = services.tces_score(tces=[tce], version=version)
    assert report["scored"] == 1 and 0 <= Prediction.objects.get(tce=tce).probability <= 1
