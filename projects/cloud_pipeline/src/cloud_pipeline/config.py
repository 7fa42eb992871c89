"""Settings: defaults < TOML (--config) < .env < CLOUD_PIPELINE_* environment < CLI flags.

AWS credentials are never a setting: boto3's standard chain (environment, shared files, instance
or container role) supplies them, so they never reach a log, a flag or `config` output.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from de_common.config import Settings, settings_config

Encryption = Literal["none", "AES256", "aws:kms"]
Checksum = Literal["CRC32", "SHA1", "SHA256"]


class CloudPipelineSettings(Settings):
    """Every knob of a run; each is also CLOUD_PIPELINE_<FIELD> in the environment."""

    model_config = settings_config(env_prefix="CLOUD_PIPELINE_")

    lake_url: str = Field(
        default="s3://data-lake",
        description="Root of the lake: s3://bucket[/prefix], az://container[/prefix] or gs://bucket[/prefix].",
    )
    region: str = Field(default="us-east-1", description="AWS region of S3 and Kinesis.")
    endpoint_url: str | None = Field(
        default=None,
        description="S3/Kinesis endpoint (MinIO, LocalStack, moto); unset means AWS itself.",
    )
    source: str = Field(
        default="orders", pattern=r"^[a-z0-9_\-]+$", description="Source name: the key prefix."
    )
    source_url: str = Field(
        default="http://127.0.0.1:8080/orders",
        description="First page of the HTTP API; each page's `next` links the following one.",
    )
    timeout_s: float = Field(default=30.0, gt=0, description="HTTP connect and read timeout.")
    sse: Encryption = Field(
        default="none",
        description="Server-side encryption of S3 writes (none: the bucket's default applies).",
    )
    kms_key_id: str | None = Field(default=None, description="KMS key for sse=aws:kms.")
    checksum: Checksum = Field(
        default="CRC32",
        description="Checksum S3 verifies on every upload, per part for multipart (CRC32: the SDK's "
        "default; SHA256 costs one more hash pass).",
    )
    multipart_threshold_mb: int = Field(
        default=16, ge=5, description="Objects at least this large go up as multipart uploads."
    )
    part_size_mb: int = Field(default=16, ge=5, le=5120, description="Multipart part size.")
    concurrency: int = Field(
        default=10, ge=1, le=64, description="Parts (or small files) uploaded in parallel."
    )
    stream: str = Field(default="events", description="Kinesis stream name.")
    batch_max_records: int = Field(
        default=500,
        ge=1,
        le=500,
        description="Records per PutRecords call (Kinesis caps it at 500).",
    )
    batch_max_bytes: int = Field(
        default=5 * 1024 * 1024,
        ge=1024,
        le=5 * 1024 * 1024,
        description="Bytes (data + partition keys) per PutRecords call (Kinesis caps it at 5 MiB).",
    )
    max_attempts: int = Field(
        default=8, ge=1, le=50, description="PutRecords attempts per record before it is failed."
    )
    backoff_s: float = Field(
        default=0.1,
        ge=0,
        description="First retry delay; doubles per attempt, full jitter, cap 5 s.",
    )
    partition_key: str = Field(
        default="customer", description="Record field used as the Kinesis partition key."
    )
    azure_connection_string: SecretStr | None = Field(
        default=None, description="Azure Storage connection string for az:// lakes; never logged."
    )
    gcs_endpoint_url: str | None = Field(
        default=None, description="GCS endpoint (fake-gcs-server); unset means Google itself."
    )
