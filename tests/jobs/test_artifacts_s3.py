"""Artifacts on an S3 object store (a local moto server, tests/s3server.py): stored write-once,
read back, downloaded, recovered and checked by check_data as on the disk."""

from __future__ import annotations

import hashlib

import pytest
from django.urls import reverse

from apps.core.files import resolve_data_path, staging_scope
from apps.jobs.integrity import data_check
from apps.jobs.models import Artifact
from apps.jobs.publication import artifact_publications_recover
from apps.jobs.services import artifact_local_path, artifact_path, artifact_store
from tests.jobs.test_artifacts import payload, race_writers


@pytest.mark.django_db
def test_an_artifact_round_trips_through_the_bucket(s3_products, tmp_path):
    stored = artifact_store(key="tce/1/views/gaia", kind="views", source=payload(tmp_path, "v.npz", b"views" * 100))
    assert stored.path == "artifacts/tce/1/views/gaia/v1/v.npz"
    assert s3_products.keys() == [stored.path] and s3_products.read(stored.path) == b"views" * 100
    assert not resolve_data_path(stored.path).exists()  # the product is in the bucket only
    with artifact_local_path(stored) as path:
        assert path.read_bytes() == b"views" * 100
        assert hashlib.sha256(path.read_bytes()).hexdigest() == stored.sha256
    second = artifact_store(key="tce/1/views/gaia", kind="views", source=payload(tmp_path, "v.npz", b"other"))
    assert second.version == 2 and s3_products.read(stored.path) == b"views" * 100  # v1 untouched
    assert data_check().consistent


@pytest.mark.django_db
def test_an_object_left_by_a_crashed_attempt_is_never_overwritten(s3_products, tmp_path):
    leftover = str(artifact_path(key="k", version=1, filename="x.bin").relative_to(resolve_data_path(".")))
    s3_products.write(leftover, b"half of something")
    stored = artifact_store(key="k", kind="views", source=payload(tmp_path, "x.bin", b"whole"))
    assert stored.version == 2
    assert s3_products.read(leftover) == b"half of something"  # the conditional PUT was refused
    assert data_check().orphans == [leftover]


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_each_get_their_own_object(s3_products, tmp_path):
    contents = [f"writer {i}".encode() * 500 for i in range(4)]
    rows = race_writers(tmp_path, contents)
    assert [a.version for a in rows] == [1, 2, 3, 4]
    assert {s3_products.read(a.path) for a in rows} == set(contents)
    assert data_check().consistent


@pytest.mark.django_db(transaction=True)
def test_a_publication_whose_row_rolled_back_is_removed_from_the_bucket(s3_products, tmp_path):
    from django.db import transaction

    # The scope ends (and recovers) after the rollback, as a job's run does.
    with staging_scope("job999", recover=artifact_publications_recover), pytest.raises(RuntimeError), \
            transaction.atomic():
        stored = artifact_store(key="k", kind="views", source=payload(tmp_path, "x.bin", b"x"))
        assert s3_products.keys() == [stored.path]
        raise RuntimeError("the caller's transaction fails")
    assert s3_products.keys() == [] and not Artifact.objects.exists()


@pytest.mark.django_db
def test_check_data_finds_missing_corrupt_and_orphan_objects(s3_products, tmp_path):
    good = artifact_store(key="a", kind="views", source=payload(tmp_path, "a.bin", b"a" * 100))
    gone = artifact_store(key="b", kind="views", source=payload(tmp_path, "b.bin", b"b" * 100))
    bad = artifact_store(key="c", kind="views", source=payload(tmp_path, "c.bin", b"c" * 100))
    assert data_check().consistent
    s3_products.client.delete_object(Bucket=s3_products.bucket, Key=s3_products.key(gone.path))
    s3_products.write(bad.path, b"d" * 100)
    s3_products.write("artifacts/stray.bin", b"?")
    report = data_check()
    assert report.checked == 3 and not report.consistent
    assert report.missing == [f"artifact {gone.pk}: {gone.path}"]
    assert report.corrupt == [f"artifact {bad.pk}: {bad.path} (sha256 differs)"]
    assert report.orphans == ["artifacts/stray.bin"]
    assert good.path not in " ".join(report.missing + report.corrupt)


@pytest.mark.django_db
def test_the_download_page_streams_from_the_bucket(s3_products, tmp_path, client):
    stored = artifact_store(key="k", kind="views", source=payload(tmp_path, "views.npz", b"npz bytes"))
    response = client.get(reverse("artifact-download", args=[stored.pk]))
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"npz bytes"
    assert "views.npz" in response["Content-Disposition"]
    s3_products.client.delete_object(Bucket=s3_products.bucket, Key=s3_products.key(stored.path))
    assert client.get(reverse("artifact-download", args=[stored.pk])).status_code == 404
