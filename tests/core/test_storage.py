"""Product storage: GAIA_STORAGE_URL forms, write-once publication and local paths, on the disk
(the default) and on a local S3 server (tests/s3server.py)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from apps.core import storage
from apps.core.files import resolve_data_path, staging_copy
from gaia_web.env import DATA_ROOT_STORAGE, ImproperSetting, products_storage


def test_the_url_forms_choose_the_backend(tmp_path):
    root = tmp_path / "data"
    assert products_storage("", root) == (root, {"BACKEND": DATA_ROOT_STORAGE})
    assert products_storage("file:///srv/gaia", root) == (Path("/srv/gaia"), {"BACKEND": DATA_ROOT_STORAGE})
    same_root, s3 = products_storage("s3://bucket-1/some/prefix/?endpoint_url=http://127.0.0.1:9000&region=eu-west-1", root)
    assert same_root == root and s3["BACKEND"] == "storages.backends.s3.S3Storage"
    assert s3["OPTIONS"] == {"bucket_name": "bucket-1", "location": "some/prefix",
                             "endpoint_url": "http://127.0.0.1:9000", "region_name": "eu-west-1"}
    for bad in ("file://relative/x", "s3:///no-bucket", "gs://bucket", "s3://b/p?endpoint=x"):
        with pytest.raises(ImproperSetting):
            products_storage(bad, root)


def test_the_default_is_data_root_on_the_disk_and_follows_it(settings, tmp_path):
    assert storage.products_are_local()
    settings.DATA_ROOT = tmp_path / "elsewhere"
    staged = _staged(b"bytes")
    assert storage.product_save_exclusive(staged, "artifacts/k/v1/a.bin")
    assert (tmp_path / "elsewhere" / "artifacts" / "k" / "v1" / "a.bin").read_bytes() == b"bytes"
    with storage.product_local_path("artifacts/k/v1/a.bin") as path:
        assert path == resolve_data_path("artifacts/k/v1/a.bin")


def _staged(data: bytes) -> Path:
    """A file in DATA_ROOT's staging folder, as artifact_store stages its sources."""
    source = resolve_data_path("incoming.bin")
    source.write_bytes(data)
    staged, _sha, _size = staging_copy(source, move=True)
    return staged


@pytest.mark.parametrize("backend", ["disk", "s3"])
def test_publication_is_write_once(backend, request):
    if backend == "s3":
        request.getfixturevalue("s3_products")
    else:
        request.getfixturevalue("settings")
    first, second = _staged(b"first"), _staged(b"second")
    assert storage.product_save_exclusive(first, "artifacts/k/v1/x.bin", sha256=hashlib.sha256(b"first").hexdigest())
    assert not storage.product_save_exclusive(second, "artifacts/k/v1/x.bin")
    with storage.product_open("artifacts/k/v1/x.bin") as handle:
        assert handle.read() == b"first"
    assert storage.product_exists("artifacts/k/v1/x.bin") and storage.product_size("artifacts/k/v1/x.bin") == 5
    assert list(storage.product_walk("artifacts")) == ["artifacts/k/v1/x.bin"]
    storage.product_delete("artifacts/k/v1/x.bin")
    storage.product_delete("artifacts/k/v1/x.bin")  # a missing file is not an error
    assert not storage.product_exists("artifacts/k/v1/x.bin")


def test_names_that_climb_out_are_refused(settings):
    for bad in ("../outside", "/etc/passwd", "artifacts/../../x"):
        with pytest.raises(ValueError):
            storage.product_exists(bad)


def test_s3_objects_are_where_the_url_says(s3_products):
    staged = _staged(b"payload")
    assert storage.product_save_exclusive(staged, "artifacts/a/v1/p.bin", sha256=hashlib.sha256(b"payload").hexdigest())
    assert s3_products.keys() == ["artifacts/a/v1/p.bin"] and s3_products.read("artifacts/a/v1/p.bin") == b"payload"
    assert not resolve_data_path("artifacts/a/v1/p.bin").exists()  # nothing on the local disk


def test_s3_local_paths_are_cached_downloads_checked_against_the_sha256(s3_products, settings):
    s3_products.write("artifacts/a/v1/p.bin", b"cached bytes")
    digest = hashlib.sha256(b"cached bytes").hexdigest()
    with storage.product_local_path("artifacts/a/v1/p.bin", sha256=digest) as path:
        assert path.read_bytes() == b"cached bytes"
        assert Path(settings.GAIA_STORAGE_CACHE) in path.parents
    s3_products.write("artifacts/a/v2/p.bin", b"damaged")
    with pytest.raises(ValueError, match="sha256"), storage.product_local_path("artifacts/a/v2/p.bin", sha256=digest):
        pass
    assert not (Path(settings.GAIA_STORAGE_CACHE) / "artifacts/a/v2/p.bin").exists()
    assert not list((Path(settings.GAIA_STORAGE_CACHE) / "artifacts/a/v2").iterdir())  # no .part left
    with pytest.raises(FileNotFoundError), storage.product_local_path("artifacts/missing.bin"):
        pass


def test_s3_cached_series_follow_an_object_replaced_under_its_name(s3_products):
    s3_products.write("lightcurves/kepler/q1.parquet", b"first release")
    with storage.product_local_path("lightcurves/kepler/q1.parquet") as path:
        assert path.read_bytes() == b"first release"
    with storage.product_local_path("lightcurves/kepler/q1.parquet") as path:  # from the cache
        assert path.read_bytes() == b"first release"
    s3_products.write("lightcurves/kepler/q1.parquet", b"re-ingested")
    with storage.product_local_path("lightcurves/kepler/q1.parquet") as path:
        assert path.read_bytes() == b"re-ingested"
