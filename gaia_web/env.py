"""Tiny typed helpers that read settings from the environment and fail loudly."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


class ImproperSetting(ValueError):
    """An environment variable holds a value that cannot be used."""


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperSetting(f"{name}={raw!r} is not a boolean (use 1/0, true/false, yes/no, on/off)")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperSetting(f"{name}={raw!r} is not an integer") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_path(name: str, default: Path) -> Path:
    raw = os.environ.get(name)
    return Path(raw).expanduser().resolve() if raw else default


def persistent_secret_key(var_dir: Path) -> str:
    """Return SECRET_KEY from the environment, else one generated once into var/."""
    from_env = os.environ.get("SECRET_KEY")
    if from_env:
        return from_env
    key_file = var_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    tmp = key_file.with_suffix(".tmp")
    tmp.write_text(key)
    tmp.chmod(0o600)
    tmp.replace(key_file)
    return key


#: The Django storage class of DATA_ROOT on the local disk (apps/core/storage.py).
DATA_ROOT_STORAGE = "apps.core.storage.DataRootStorage"


def products_storage(url: str, data_root: Path) -> tuple[Path, dict]:
    """(DATA_ROOT, ``STORAGES["products"]``) for ``GAIA_STORAGE_URL``.

    * empty: the local disk under ``data_root`` (the default);
    * ``file:///abs/folder``: the local disk under that folder (it becomes DATA_ROOT, whatever
      ``DATA_ROOT`` says);
    * ``s3://bucket/prefix?endpoint_url=...&region=...``: an S3-compatible bucket through
      django-storages; credentials come from the usual AWS variables (``AWS_ACCESS_KEY_ID``...).
    """
    from urllib.parse import parse_qs, unquote, urlsplit

    if not url:
        return data_root, {"BACKEND": DATA_ROOT_STORAGE}
    parts = urlsplit(url)
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    if parts.scheme == "file":
        folder = Path(unquote(parts.path)) if parts.path else data_root
        if not folder.is_absolute() or parts.netloc or query:
            raise ImproperSetting(f"GAIA_STORAGE_URL={url!r}: use file:///absolute/folder")
        return folder, {"BACKEND": DATA_ROOT_STORAGE}
    if parts.scheme != "s3" or not parts.netloc:
        raise ImproperSetting(f"GAIA_STORAGE_URL={url!r}: use file:///folder or s3://bucket/prefix")
    unknown = set(query) - {"endpoint_url", "region"}
    if unknown:
        raise ImproperSetting(f"GAIA_STORAGE_URL={url!r}: unknown option(s) {sorted(unknown)}")
    options = {
        "bucket_name": parts.netloc,
        "location": unquote(parts.path).strip("/"),
        "endpoint_url": query.get("endpoint_url"),
        "region_name": query.get("region"),
    }
    return data_root, {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}
