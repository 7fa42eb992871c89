"""An upload SIGKILLed mid-multipart, then rerun: exactly one complete object, no orphaned parts."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from de_services.testing import fault_env, s3_client

from .conftest import cli, cli_env, run_cli

pytestmark = pytest.mark.integration


def test_sigkill_mid_multipart_then_rerun_leaves_one_object_and_no_parts(
    s3_endpoint: str, s3_bucket: str, tmp_path: Path
) -> None:
    data = tmp_path / "part-00000.bin"
    data.write_bytes(os.urandom(26 * 1024 * 1024))  # 6 parts of 5 MiB (the last one 1 MiB)
    key = "landing/part-00000.bin"
    env = cli_env(
        s3_endpoint,
        lake_url=f"s3://{s3_bucket}/landing",
        multipart_threshold_mb="5",
        part_size_mb="5",
        concurrency="2",
    )
    s3 = s3_client(s3_endpoint)

    killed = cli(["upload", str(data)], {**env, **fault_env("s3.multipart_part", 3)}, tmp_path)

    assert killed.returncode == -9, killed.stderr
    uploads = s3.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", [])
    assert [u["Key"] for u in uploads] == [key]  # the killed run left its parts behind
    assert "Contents" not in s3.list_objects_v2(Bucket=s3_bucket)  # and no object

    summary = run_cli(["upload", str(data)], env, tmp_path)

    assert summary["records_out"] == 1
    assert s3.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", []) == []
    listed = s3.list_objects_v2(Bucket=s3_bucket)["Contents"]
    assert [o["Key"] for o in listed] == [key]
    body = s3.get_object(Bucket=s3_bucket, Key=key)["Body"].read()
    assert hashlib.sha256(body).hexdigest() == hashlib.sha256(data.read_bytes()).hexdigest()
    assert (
        s3.head_object(Bucket=s3_bucket, Key=key)["Metadata"]["sha256"]
        == hashlib.sha256(body).hexdigest()
    )
