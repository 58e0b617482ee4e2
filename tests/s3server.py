"""A local S3 server (moto's, started by the tests themselves) and products stored in it.

``s3_products`` points ``STORAGES["products"]`` at a fresh bucket of that server, configured
from a ``GAIA_STORAGE_URL`` as an operator would write it, with its own download cache.
Nothing leaves localhost.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from gaia_web.env import products_storage

REGION = "us-east-1"


@dataclass
class S3Products:
    """The bucket a test's products go to, and a client to look at it behind the site's back."""

    client: object
    bucket: str
    prefix: str

    def key(self, relative: str) -> str:
        return f"{self.prefix}/{relative}"

    def keys(self) -> list[str]:
        listed = self.client.list_objects_v2(Bucket=self.bucket, Prefix=f"{self.prefix}/")
        return sorted(item["Key"][len(self.prefix) + 1:] for item in listed.get("Contents", []))

    def read(self, relative: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=self.key(relative))["Body"].read()

    def write(self, relative: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self.key(relative), Body=data)


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """URL of a moto S3 server on a free localhost port, for the whole session."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not one log line per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_products(s3_endpoint, settings, tmp_path, monkeypatch) -> S3Products:  # noqa: ANN001
    """Products go to a new bucket of the local S3 server for this test."""
    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    bucket = f"gaia-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name=REGION)
    client.create_bucket(Bucket=bucket)
    url = f"s3://{bucket}/products?endpoint_url={s3_endpoint}&region={REGION}"
    _root, products = products_storage(url, settings.DATA_ROOT)
    settings.STORAGES = {**settings.STORAGES, "products": products}
    settings.GAIA_STORAGE_CACHE = tmp_path / "storage-cache"
    return S3Products(client=client, bucket=bucket, prefix="products")
