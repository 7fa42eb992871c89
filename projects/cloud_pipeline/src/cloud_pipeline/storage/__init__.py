"""Object storage behind one small interface, chosen by the lake URL's scheme:
s3:// (boto3, the default), az:// (Azure Blob), gs:// (Google Cloud Storage), file:// (a folder)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from de_common.errors import UserError

SCHEMES = ("s3", "az", "gs", "file")


class ObjectStore(Protocol):
    """Keys are relative to the lake root; metadata is small str -> str."""

    url: str

    def put_bytes(self, key: str, data: bytes, metadata: dict[str, str]) -> None:
        """Write one object whole (replacing any object at the key)."""

    def put_file(self, key: str, path: Path, metadata: dict[str, str]) -> None:
        """Write a file, in parts when it is large; never leaves a partial object visible."""

    def get(self, key: str) -> bytes:
        """The object's bytes."""

    def metadata(self, key: str) -> dict[str, str]:
        """The object's user metadata."""

    def keys(self, prefix: str = "") -> list[str]:
        """Keys under the prefix, sorted."""


@dataclass(frozen=True)
class StoreOptions:
    """What every backend may need; each reads its own part."""

    region: str = "us-east-1"
    endpoint_url: str | None = None
    sse: str = "none"
    kms_key_id: str | None = None
    checksum: str = "CRC32"
    multipart_threshold: int = 16 * 1024 * 1024
    part_size: int = 16 * 1024 * 1024
    concurrency: int = 10
    extra: dict[str, str] = field(default_factory=dict)


def split_url(url: str) -> tuple[str, str, str]:
    """(scheme, bucket or container, prefix ending in / or empty)."""
    parts = urlsplit(url)
    if parts.scheme == "file" and parts.path.startswith("/"):
        return "file", "", ""
    if parts.scheme not in SCHEMES or not parts.netloc:
        raise UserError(
            f"lake URL {url!r}: expected s3://, az:// or gs:// and a bucket, or file:///folder"
        )
    prefix = parts.path.strip("/")
    return parts.scheme, parts.netloc, f"{prefix}/" if prefix else ""


def open_store(url: str, options: StoreOptions) -> ObjectStore:
    """The backend for the URL's scheme (client libraries imported only when used)."""
    scheme, bucket, prefix = split_url(url)
    if scheme == "file":
        from cloud_pipeline.storage.local import LocalStore

        return LocalStore(url, Path(urlsplit(url).path), options)
    if scheme == "s3":
        from cloud_pipeline.storage.s3 import S3Store

        return S3Store(url, bucket, prefix, options)
    if scheme == "az":
        from cloud_pipeline.storage.azure_blob import AzureBlobStore

        return AzureBlobStore(url, bucket, prefix, options)
    from cloud_pipeline.storage.gcs import GcsStore

    return GcsStore(url, bucket, prefix, options)
