"""Azure Blob Storage through azure-storage-blob (tested against Azurite).

The connection string is the one secret (CLOUD_PIPELINE_AZURE_CONNECTION_STRING); without it the
account URL must come from AZURE_STORAGE_ACCOUNT_URL and DefaultAzureCredential is not bundled, so
a connection string is required. Large blobs go up as staged blocks committed at the end: a killed
upload leaves uncommitted blocks that Azure discards after seven days, never a partial blob.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cloud_pipeline.storage import StoreOptions
from de_common.errors import JobError, ServiceUnavailable, UserError

SHA256_META = "sha256"
# The SDK logs every request and response at INFO; a run's log keeps its own lines.
logging.getLogger("azure.core.pipeline.policies.http_logging_policy").setLevel(logging.WARNING)


def to_azure(metadata: dict[str, str]) -> dict[str, str]:
    """Azure metadata names must be C# identifiers: run-id is stored as run_id."""
    return {k.replace("-", "_"): v for k, v in metadata.items()}


def from_azure(metadata: dict[str, str]) -> dict[str, str]:
    return {k.replace("_", "-"): v for k, v in metadata.items()}


@contextmanager
def azure_errors(address: str) -> Iterator[None]:
    """Map the SDK's errors to the three a CLI distinguishes."""
    from azure.core.exceptions import (
        ClientAuthenticationError,
        HttpResponseError,
        ResourceNotFoundError,
        ServiceRequestError,
    )

    try:
        yield
    except ServiceRequestError as exc:
        raise ServiceUnavailable("azure-blob", address, str(exc).splitlines()[0]) from exc
    except (ResourceNotFoundError, ClientAuthenticationError) as exc:
        raise UserError(f"azure-blob at {address}: {str(exc).splitlines()[0]}") from exc
    except HttpResponseError as exc:
        raise JobError(f"azure-blob at {address}: {str(exc).splitlines()[0]}") from exc


class AzureBlobStore:
    """One container (and prefix) on Azure Blob Storage or Azurite."""

    def __init__(self, url: str, container: str, prefix: str, options: StoreOptions) -> None:
        from azure.storage.blob import BlobServiceClient

        self.url = url
        self.prefix = prefix
        connection = options.extra.get("azure_connection_string")
        if not connection:
            raise UserError("az:// lake: set CLOUD_PIPELINE_AZURE_CONNECTION_STRING")
        self.service = BlobServiceClient.from_connection_string(
            connection,
            max_single_put_size=options.multipart_threshold,
            max_block_size=options.part_size,
        )
        self.address = str(self.service.url)
        self.container = self.service.get_container_client(container)
        self.concurrency = options.concurrency

    def _upload(self, key: str, data: Any, metadata: dict[str, str]) -> None:
        with azure_errors(self.address):
            self.container.upload_blob(
                self.prefix + key,
                data,
                overwrite=True,
                metadata=to_azure(metadata),
                max_concurrency=self.concurrency,
                validate_content=True,
            )

    def put_bytes(self, key: str, data: bytes, metadata: dict[str, str]) -> None:
        self._upload(key, data, {**metadata, SHA256_META: hashlib.sha256(data).hexdigest()})

    def put_file(self, key: str, path: Path, metadata: dict[str, str]) -> None:
        from cloud_pipeline.storage.s3 import sha256_file

        meta = {**metadata, SHA256_META: sha256_file(path)}
        with path.open("rb") as stream:
            self._upload(key, stream, meta)

    def get(self, key: str) -> bytes:
        with azure_errors(self.address):
            return bytes(self.container.download_blob(self.prefix + key).readall())

    def metadata(self, key: str) -> dict[str, str]:
        with azure_errors(self.address):
            props = self.container.get_blob_client(self.prefix + key).get_blob_properties()
        return from_azure(dict(props.metadata or {}))

    def keys(self, prefix: str = "") -> list[str]:
        with azure_errors(self.address):
            names = [
                b.name for b in self.container.list_blobs(name_starts_with=self.prefix + prefix)
            ]
        return sorted(n[len(self.prefix) :] for n in names)
