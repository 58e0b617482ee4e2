"""Light curves with an S3 object store for products (a local moto server, tests/s3server.py):
real Kepler files are ingested into the bucket, read back through the site's selectors and
processed into artifacts there, with the same numbers as on the disk."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from apps.archive.services.ingest import lightcurves_ingest_files
from apps.core.files import resolve_data_path
from apps.jobs.integrity import data_check
from apps.lightcurves import services
from apps.lightcurves.selectors import (
    centroid_series,
    flattened_latest,
    lightcurve_series,
    tce_views_latest,
)
from tests.factories import TCEFactory
from tests.lightcurves.test_services import EB_FILES

pytestmark = pytest.mark.django_db


def _ingest(demo_data):  # noqa: ANN001, ANN202
    outcomes = lightcurves_ingest_files(paths=[demo_data / "kepler" / name for name in EB_FILES])
    assert [o.error for o in outcomes] == ["", ""]
    return [o.lightcurve for o in outcomes]


@pytest.fixture
def series_on_disk(demo_data):
    """The series of the same files ingested with the default backend (computed first)."""
    return [lightcurve_series(lightcurve=curve, max_points=None) for curve in _ingest(demo_data)]


def test_ingested_series_are_stored_in_the_bucket_and_read_back_alike(series_on_disk, demo_data, request):
    s3_products = request.getfixturevalue("s3_products")
    shutil.rmtree(resolve_data_path("lightcurves"))  # the disk's copies: reads below must use the bucket
    curves = _ingest(demo_data)
    paths = sorted(curve.parquet_path for curve in curves)
    assert s3_products.keys() == paths and all(s3_products.read(p)[:4] == b"PAR1" for p in paths)
    assert not resolve_data_path("lightcurves").exists()  # ...and nothing in this disk's DATA_ROOT
    for curve, expected in zip(curves, series_on_disk, strict=True):
        series = lightcurve_series(lightcurve=curve, max_points=None)
        assert series.n_total == expected.n_total > 1000
        np.testing.assert_array_equal(series.time, expected.time)
        np.testing.assert_array_equal(series.flux, expected.flux)
        assert centroid_series(lightcurve=curve).time.size > 1000
    assert data_check().consistent
    s3_products.write(paths[0], b"PAR1 cut short")
    assert data_check().corrupt == [f"lightcurve {curves[0].pk}: {paths[0]} (not a whole Parquet file)"]


def test_processing_reads_the_series_from_the_bucket_and_stores_its_products_there(s3_products, demo_data):
    curves = _ingest(demo_data)
    tce = TCEFactory(target=curves[0].target, tce_number=3, period_days=10.307, epoch=138.748, duration_hours=18.64)
    report = services.target_process(target=tce.target, presets=["gaia"])
    assert report["failed"] == {}
    views, artifact = tce_views_latest(tce_id=tce.pk, preset="gaia")
    assert views["local_view"].shape == (201,) and np.argmin(views["local_view"]) == pytest.approx(100, abs=3)
    flattened, flat_artifact = flattened_latest(target_id=tce.target_id)
    assert flattened["time"].size > 1000
    assert {artifact.path, flat_artifact.path} <= set(s3_products.keys())
    assert data_check().consistent
