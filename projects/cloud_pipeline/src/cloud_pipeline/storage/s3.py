"""S3 through boto3: checksummed puts, multipart uploads via TransferConfig, leftovers aborted.

A multipart upload killed mid-way (SIGKILL, OOM, a pulled plug) leaves its parts on the bucket,
invisible and billed, until someone aborts it. `put_file` aborts every unfinished upload of its
key before it starts, so a rerun cleans up after the run it replaces; for uploads nobody reruns,
the bucket should also carry a lifecycle rule (README: AbortIncompleteMultipartUpload).
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

from boto3.s3.transfer import TransferConfig

from cloud_pipeline.clients import AwsTarget, aws_errors, client
from cloud_pipeline.storage import StoreOptions
from de_common.faults import fault_point

SHA256_META = "sha256"


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in 8 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while block := stream.read(8 * 1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


class PartProgress:
    """The upload's progress callback: passes a fault point once per part's worth of bytes."""

    def __init__(self, part_size: int) -> None:
        self.part_size = part_size
        self.sent = 0
        self.parts = 0

    def __call__(self, amount: int) -> None:
        self.sent += amount
        while self.sent >= (self.parts + 1) * self.part_size:
            self.parts += 1
            fault_point("s3.multipart_part")


class S3Store:
    """One bucket (and prefix) on S3 or an S3-compatible endpoint."""

    def __init__(self, url: str, bucket: str, prefix: str, options: StoreOptions) -> None:
        self.url = url
        self.bucket = bucket
        self.prefix = prefix
        self.options = options
        self.target = AwsTarget(options.region, options.endpoint_url)
        self.s3 = client("s3", self.target)
        self.transfer = TransferConfig(
            multipart_threshold=options.multipart_threshold,
            multipart_chunksize=options.part_size,
            max_concurrency=options.concurrency,
            use_threads=True,
        )

    def _extra(self, metadata: dict[str, str]) -> dict[str, Any]:
        extra: dict[str, Any] = {"Metadata": metadata, "ChecksumAlgorithm": self.options.checksum}
        if self.options.sse != "none":
            extra["ServerSideEncryption"] = self.options.sse
            if self.options.sse == "aws:kms" and self.options.kms_key_id:
                extra["SSEKMSKeyId"] = self.options.kms_key_id
        return extra

    def put_bytes(self, key: str, data: bytes, metadata: dict[str, str]) -> None:
        digest = hashlib.sha256(data)
        extra = self._extra({**metadata, SHA256_META: digest.hexdigest()})
        if self.options.checksum == "SHA256":
            # S3 verifies the very hash the metadata carries; botocore does not hash it again.
            extra["ChecksumSHA256"] = base64.b64encode(digest.digest()).decode("ascii")
        with aws_errors("s3", self.target):
            self.s3.put_object(Bucket=self.bucket, Key=self.prefix + key, Body=data, **extra)

    def put_file(self, key: str, path: Path, metadata: dict[str, str]) -> None:
        if path.stat().st_size < self.options.multipart_threshold:
            # One request: no transfer manager (and its thread pool) per small file.
            self.put_bytes(key, path.read_bytes(), metadata)
            return
        full = self.prefix + key
        meta = {**metadata, SHA256_META: sha256_file(path)}
        with aws_errors("s3", self.target):
            self.abort_unfinished(full)
            self.s3.upload_file(
                str(path),
                self.bucket,
                full,
                ExtraArgs=self._extra(meta),
                Config=self.transfer,
                Callback=PartProgress(self.options.part_size),
            )

    def abort_unfinished(self, full_key: str) -> int:
        """Abort every multipart upload of exactly this key that never completed."""
        aborted = 0
        paginator = self.s3.get_paginator("list_multipart_uploads")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=full_key):
            for upload in page.get("Uploads", []):
                if upload["Key"] == full_key:
                    self.s3.abort_multipart_upload(
                        Bucket=self.bucket, Key=full_key, UploadId=upload["UploadId"]
                    )
                    aborted += 1
        return aborted

    def get(self, key: str) -> bytes:
        with aws_errors("s3", self.target):
            body = self.s3.get_object(Bucket=self.bucket, Key=self.prefix + key)["Body"]
            return bytes(body.read())

    def metadata(self, key: str) -> dict[str, str]:
        with aws_errors("s3", self.target):
            head = self.s3.head_object(Bucket=self.bucket, Key=self.prefix + key)
        return dict(head.get("Metadata", {}))

    def keys(self, prefix: str = "") -> list[str]:
        found: list[str] = []
        with aws_errors("s3", self.target):
            paginator = self.s3.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
                found.extend(o["Key"][len(self.prefix) :] for o in page.get("Contents", []))
        return sorted(found)
