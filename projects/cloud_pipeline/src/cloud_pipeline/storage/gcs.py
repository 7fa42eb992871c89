"""Google Cloud Storage through google-cloud-storage.

Credentials: Application Default Credentials; with `gcs_endpoint_url` set (fake-gcs-server) the
client is anonymous. Large files go up as resumable uploads in `part_size` chunks: a killed upload
leaves a session that expires after a week, never a partial object.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cloud_pipeline.storage import StoreOptions
from de_common.errors import JobError, ServiceUnavailable, UserError

SHA256_META = "sha256"
GCS_CHUNK = 256 * 1024  # resumable chunk sizes must be multiples of 256 KiB


@contextmanager
def gcs_errors(address: str) -> Iterator[None]:
    """Map the client's errors to the three a CLI distinguishes."""
    from google.api_core import exceptions as gexc
    from requests.exceptions import ConnectionError as RequestsConnectionError

    try:
        yield
    except RequestsConnectionError as exc:
        raise ServiceUnavailable("gcs", address, str(exc).splitlines()[0]) from exc
    except (gexc.NotFound, gexc.Forbidden, gexc.Unauthorized) as exc:
        raise UserError(f"gcs at {address}: {exc.message}") from exc
    except gexc.GoogleAPIError as exc:
        raise JobError(f"gcs at {address}: {exc}") from exc


class GcsStore:
    """One bucket (and prefix) on GCS or fake-gcs-server."""

    def __init__(self, url: str, bucket: str, prefix: str, options: StoreOptions) -> None:
        from google.cloud import storage

        self.url = url
        self.prefix = prefix
        endpoint = options.extra.get("gcs_endpoint_url")
        if endpoint:
            from google.auth.credentials import AnonymousCredentials

            self.client = storage.Client(
                project="local",
                credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
                client_options={"api_endpoint": endpoint},
            )
        else:
            self.client = storage.Client()
        self.address = endpoint or "https://storage.googleapis.com"
        self.bucket = self.client.bucket(bucket)
        self.chunk = max(GCS_CHUNK, options.part_size // GCS_CHUNK * GCS_CHUNK)
        self.threshold = options.multipart_threshold

    def _blob(self, key: str, size: int) -> Any:
        # Small objects in one request; large ones resumable, chunk by chunk.
        chunk = self.chunk if size >= self.threshold else None
        return self.bucket.blob(self.prefix + key, chunk_size=chunk)

    def put_bytes(self, key: str, data: bytes, metadata: dict[str, str]) -> None:
        blob = self._blob(key, len(data))
        blob.metadata = {**metadata, SHA256_META: hashlib.sha256(data).hexdigest()}
        with gcs_errors(self.address):
            blob.upload_from_string(data, checksum="crc32c")

    def put_file(self, key: str, path: Path, metadata: dict[str, str]) -> None:
        from cloud_pipeline.storage.s3 import sha256_file

        blob = self._blob(key, path.stat().st_size)
        blob.metadata = {**metadata, SHA256_META: sha256_file(path)}
        with gcs_errors(self.address):
            blob.upload_from_filename(str(path), checksum="crc32c")

    def get(self, key: str) -> bytes:
        with gcs_errors(self.address):
            return bytes(self.bucket.blob(self.prefix + key).download_as_bytes())

    def metadata(self, key: str) -> dict[str, str]:
        with gcs_errors(self.address):
            blob = self.bucket.get_blob(self.prefix + key)
        if blob is None:
            raise UserError(f"gcs: no object {self.prefix + key}")
        return dict(blob.metadata or {})

    def keys(self, prefix: str = "") -> list[str]:
        with gcs_errors(self.address):
            names = [
                b.name for b in self.client.list_blobs(self.bucket, prefix=self.prefix + prefix)
            ]
        return sorted(n[len(self.prefix) :] for n in names)
