"""Product files (artifacts, light-curve Parquet) through Django's storage API.

``STORAGES["products"]`` is DATA_ROOT on the local disk by default (:class:`DataRootStorage`) or an
S3-compatible bucket (``GAIA_STORAGE_URL=s3://...``, django-storages). Callers name files by
their path relative to DATA_ROOT, as rows store them, and never by backend.

Two things the storage API lacks are added here:

* **write-once publication** (:func:`product_save_exclusive`): on the disk today's exclusive hard
  link from the staging folder; on S3 a conditional ``PutObject`` (``If-None-Match: *``), which
  the object store itself refuses when the key exists. Stores that ignore that header (some older
  S3 look-alikes) degrade to last writer wins: use one that honours it.
* **a local path for science code** (:func:`product_local_path`): the file itself on the disk; on
  S3 a copy downloaded into ``GAIA_STORAGE_CACHE`` (checked against the row's sha256 when known,
  kept while current: :func:`product_local_path`).
"""

from __future__ import annotations

import base64
import hashlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage, storages

from apps.core.files import CHUNK, atomic_path, publish_exclusive, resolve_data_path, staging_dir

PRODUCTS = "products"


class ProductStorageError(OSError):
    """The object store failed (unreachable, refused): an OSError, like a failing disk."""


class DataRootStorage(FileSystemStorage):
    """DATA_ROOT as a Django storage, read at each use (tests and commands change DATA_ROOT)."""

    @property
    def base_location(self) -> str:  # type: ignore[override]
        return str(settings.DATA_ROOT)

    @property
    def location(self) -> str:  # type: ignore[override]
        return os.path.abspath(self.base_location)


def product_storage() -> Storage:
    return storages[PRODUCTS]


def products_are_local() -> bool:
    """Whether product files live under DATA_ROOT on this machine (hard links, direct paths)."""
    return isinstance(product_storage(), FileSystemStorage)


def _clean(relative: str | Path) -> str:
    """The relative name as a storage name; refuses names that climb out of the product root."""
    name = PurePosixPath(str(relative).replace(os.sep, "/"))
    if name.is_absolute() or ".." in name.parts or not name.parts:
        raise ValueError(f"path {relative!s} escapes DATA_ROOT")
    return str(name)


def _s3_target(relative: str) -> tuple[object, str, str]:
    """(boto3 client, bucket, key) of a product on the S3 backend."""
    storage = product_storage()
    prefix = (storage.location or "").strip("/")
    key = f"{prefix}/{relative}" if prefix else relative
    return storage.connection.meta.client, storage.bucket_name, key


def _s3_error(exc: Exception) -> str:
    return getattr(exc, "response", {}).get("Error", {}).get("Code", "") or type(exc).__name__


def product_save_exclusive(staged: Path, relative: str, *, sha256: str | None = None) -> bool:
    """Publish the staged file as ``relative`` unless that name exists; False if it does.

    On the disk: an atomic hard link (``staged`` must be in DATA_ROOT's staging folder). On S3:
    one conditional PUT carrying the sha256, which AWS S3 checks against the bytes it receives
    (moto, the tests' server, does not: that check is S3's, untested here).
    """
    relative = _clean(relative)
    if products_are_local():
        return publish_exclusive(staged, resolve_data_path(relative))
    from botocore.exceptions import BotoCoreError, ClientError

    client, bucket, key = _s3_target(relative)
    extra = {"ChecksumSHA256": base64.b64encode(bytes.fromhex(sha256)).decode()} if sha256 else {}
    try:
        with open(staged, "rb") as body:
            client.put_object(Bucket=bucket, Key=key, Body=body, IfNoneMatch="*", **extra)
    except ClientError as exc:
        if _s3_error(exc) in ("PreconditionFailed", "ConditionalRequestConflict"):
            return False
        raise ProductStorageError(f"object store refused {relative}: {_s3_error(exc)}") from exc
    except BotoCoreError as exc:
        raise ProductStorageError(f"object store unreachable for {relative}: {exc}") from exc
    return True


def products_upload(pairs: Sequence[tuple[Path, str]]) -> list[OSError | None]:
    """Upload written files (``(temporary, relative)``) to the object store, replacing what a
    name held, and remove each uploaded temporary file; per file, None or the error that kept it
    out. For content-named files (light-curve series); on the disk callers rename instead.
    """
    if products_are_local():
        raise RuntimeError("products_upload is for the object-store backend")
    errors: list[OSError | None] = []
    for temporary, relative in pairs:
        try:
            _s3_put(temporary, _clean(relative))
        except OSError as exc:
            errors.append(exc)
        else:
            temporary.unlink(missing_ok=True)
            errors.append(None)
    return errors


def _s3_put(source: Path, relative: str) -> None:
    from botocore.exceptions import BotoCoreError, ClientError

    client, bucket, key = _s3_target(relative)
    try:
        with open(source, "rb") as body:
            client.put_object(Bucket=bucket, Key=key, Body=body)
    except (BotoCoreError, ClientError) as exc:
        raise ProductStorageError(f"object store could not take {relative}: {_s3_error(exc)}") from exc


def product_replace(relative: str, data: bytes) -> None:
    """Write a small product whole, replacing what the name held (a sidecar beside an artifact,
    such as a model's manifest): atomically renamed into place on the disk, one PUT on S3."""
    relative = _clean(relative)
    if products_are_local():
        with atomic_path(resolve_data_path(relative)) as temporary:
            temporary.write_bytes(data)
        return
    with tempfile.NamedTemporaryFile(dir=staging_dir(), suffix=".part") as temporary:
        temporary.write(data)
        temporary.flush()
        _s3_put(Path(temporary.name), relative)


def product_exists(relative: str) -> bool:
    return product_storage().exists(_clean(relative))


def product_size(relative: str) -> int:
    return product_storage().size(_clean(relative))


def product_delete(relative: str) -> None:
    """Remove a product file if it exists (a missing one is not an error)."""
    product_storage().delete(_clean(relative))


def product_open(relative: str):  # noqa: ANN201 - a django File, binary, to be closed by the caller
    """Open a product for reading; FileNotFoundError when missing."""
    return product_storage().open(_clean(relative), "rb")


def product_sha256(relative: str) -> str:
    """sha256 of a product's bytes, streamed (from the object store on S3)."""
    digest = hashlib.sha256()
    with product_open(relative) as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def product_head_tail(relative: str, count: int) -> tuple[bytes, bytes]:
    """The first and last ``count`` bytes of a product (e.g. to check a Parquet file is whole)."""
    with product_open(relative) as handle:
        head = handle.read(count)
        handle.seek(-count, os.SEEK_END)
        return head, handle.read(count)


def product_walk(folder: str) -> Iterator[str]:
    """Every product file's relative name under ``folder`` (for ``check_data``)."""
    folder = _clean(folder)
    try:
        dirs, files = product_storage().listdir(folder)
    except FileNotFoundError:  # on the disk, a folder nothing was written to yet
        return
    for name in sorted(files):
        yield f"{folder}/{name}"
    for name in sorted(dirs):
        yield from product_walk(f"{folder}/{name}")


def storage_cache_dir() -> Path:
    """Where S3 products are downloaded for science code (``GAIA_STORAGE_CACHE``)."""
    folder = Path(settings.GAIA_STORAGE_CACHE)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextmanager
def product_local_path(relative: str, *, sha256: str | None = None) -> Iterator[Path]:
    """A real local path holding the product's bytes, for code that reads files (pyarrow, numpy,
    astropy). FileNotFoundError when the product is missing; ValueError when the downloaded
    bytes do not match ``sha256``.

    On S3 the copy in the cache is used while it is current: always when ``sha256`` is given (a
    write-once artifact, checked when downloaded), else while the object's ETag is the one it was
    downloaded with (one HEAD request: a series re-ingested under its name replaces the object).
    """
    relative = _clean(relative)
    if products_are_local():
        path = resolve_data_path(relative)
        if not path.is_file():
            raise FileNotFoundError(f"product file {relative} is missing")
        yield path
        return
    cached = storage_cache_dir() / relative
    if not _cache_current(relative, cached, sha256):
        _download(relative, cached, sha256)
    yield cached


def _etag_file(cached: Path) -> Path:
    return cached.with_name(cached.name + ".etag")


def _s3_call(relative: str, method: str) -> dict:
    """``head_object`` or ``get_object`` of a product; FileNotFoundError when there is none."""
    from botocore.exceptions import BotoCoreError, ClientError

    client, bucket, key = _s3_target(relative)
    try:
        return getattr(client, method)(Bucket=bucket, Key=key)
    except ClientError as exc:
        if _s3_error(exc) in ("NoSuchKey", "404", "NotFound"):
            raise FileNotFoundError(f"product file {relative} is missing") from exc
        raise ProductStorageError(f"object store refused {relative}: {_s3_error(exc)}") from exc
    except BotoCoreError as exc:
        raise ProductStorageError(f"object store unreachable for {relative}: {exc}") from exc


def _cache_current(relative: str, cached: Path, sha256: str | None) -> bool:
    if not cached.is_file():
        return False
    if sha256:
        return True
    etag = _etag_file(cached)
    return etag.is_file() and etag.read_text() == _s3_call(relative, "head_object")["ETag"]


def _download(relative: str, cached: Path, sha256: str | None) -> None:
    """Copy a product into the cache atomically (a killed download leaves only a ``.part``),
    then record the ETag it came with (a copy newer than its recorded ETag is fetched again)."""
    cached.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{cached.name}.", suffix=".part", dir=cached.parent)
    temporary = Path(name)
    digest = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as dst:
            response = _s3_call(relative, "get_object")
            for block in response["Body"].iter_chunks(CHUNK):
                digest.update(block)
                dst.write(block)
        if sha256 and digest.hexdigest() != sha256:
            raise ValueError(f"product {relative} from the object store does not match its sha256")
        os.replace(temporary, cached)
        _etag_file(cached).write_text(response["ETag"])
    finally:
        temporary.unlink(missing_ok=True)
