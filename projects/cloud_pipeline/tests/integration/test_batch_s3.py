"""The batch path on the real moto S3 endpoint: API -> raw -> errors -> curated, idempotent reruns,
metadata, encryption, checksums, and the objects read back by a third-party client (awscli)."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import subprocess
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from cloud_pipeline.demo_api import DemoApi, DemoConfig

from de_services.testing import s3_client

from .conftest import aws_cli, cli, cli_env, run_cli

pytestmark = pytest.mark.integration

DAY = "2024-03-05"
RAW = "raw/orders/dt=2024-03-05/orders-20240305.jsonl.gz"
CURATED = "curated/orders/dt=2024-03-05/orders-20240305.parquet"
ERRORS = "errors/orders/dt=2024-03-05/orders-20240305.jsonl.gz"


def listing(s3: object, bucket: str) -> dict[str, str]:
    """Key -> ETag of every object in the bucket."""
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)  # type: ignore[attr-defined]
    return {o["Key"]: o["ETag"] for p in pages for o in p.get("Contents", [])}


def test_ingest_lands_raw_errors_and_curated_and_a_rerun_overwrites(
    s3_endpoint: str, s3_bucket: str, tmp_path: Path
) -> None:
    s3 = s3_client(s3_endpoint)
    config = DemoConfig(records=450, page_size=100, invalid_every=40, broken_page=3, overlap=2)
    with DemoApi(config) as api:
        env = cli_env(s3_endpoint, lake_url=f"s3://{s3_bucket}", source_url=api.url, sse="AES256")
        first = run_cli(["ingest", "--date", DAY], env, tmp_path)
        keys_after_first = listing(s3, s3_bucket)
        second = run_cli(["ingest", "--date", DAY], env, tmp_path)

    assert set(keys_after_first) == {RAW, CURATED, ERRORS}
    # Same interval, same keys: the rerun replaced the objects, it added none.
    assert set(listing(s3, s3_bucket)) == set(keys_after_first)
    assert {k: v for k, v in first.items() if k != "duration_s"} == {
        k: v for k, v in second.items() if k != "duration_s"
    }

    # Raw: every response exactly as the API sent it, the broken page included.
    raw = [
        json.loads(line)
        for line in gzip.decompress(
            s3.get_object(Bucket=s3_bucket, Key=RAW)["Body"].read()
        ).splitlines()
    ]
    assert [r["page"] for r in raw] == list(range(1, len(raw) + 1))
    assert raw[2]["body"].startswith("<html>")
    items_served = sum(len(json.loads(r["body"])["items"]) for r in raw if r["page"] != 3)

    # Errors: the broken page and every contract breaker, each with its reason.
    errors = [
        json.loads(line)
        for line in gzip.decompress(
            s3.get_object(Bucket=s3_bucket, Key=ERRORS)["Body"].read()
        ).splitlines()
    ]
    (page_error,) = [e for e in errors if "payload" in e]
    assert page_error["page"] == 3 and "not JSON" in page_error["reason"]
    bad_records = [e for e in errors if "record" in e]
    assert bad_records and all(e["reason"] for e in bad_records)
    assert {e["record"]["id"] % 100_000 % 40 for e in bad_records} == {39}

    # Curated: typed, one row per id, nothing from the broken page, balance holds.
    table = pq.read_table(io.BytesIO(s3.get_object(Bucket=s3_bucket, Key=CURATED)["Body"].read()))
    ids = table.column("id").to_pylist()
    assert len(ids) == len(set(ids)) == first["records_out"]
    assert str(table.schema.field("updated_at").type) == "timestamp[ms, tz=UTC]"
    assert first["records_in"] == items_served + 1  # + the broken page, counted once
    assert first["records_rejected"] == len(errors)

    # Metadata: run id and row counts on every object; SSE as configured; sha256 of the bytes.
    for key, count in ((CURATED, first["records_out"]), (ERRORS, len(errors)), (RAW, len(raw))):
        head = s3.head_object(Bucket=s3_bucket, Key=key)
        body = s3.get_object(Bucket=s3_bucket, Key=key)["Body"].read()
        assert head["Metadata"]["run-id"] == "orders-20240305"
        assert head["Metadata"].get("rows", head["Metadata"].get("pages")) == str(count)
        assert head["Metadata"]["sha256"] == hashlib.sha256(body).hexdigest()
        assert head["ServerSideEncryption"] == "AES256"


def test_a_large_file_goes_up_in_checksummed_parts_and_awscli_reads_it_back(
    s3_endpoint: str, s3_bucket: str, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    (folder / "nested").mkdir(parents=True)
    big = folder / "big.bin"
    big.write_bytes(bytes(range(256)) * (12 * 1024 * 1024 // 256 + 7))  # 12 MiB + a bit: 3 parts
    (folder / "nested" / "small.txt").write_text("hello\n")
    env = cli_env(
        s3_endpoint,
        lake_url=f"s3://{s3_bucket}/landing",
        multipart_threshold_mb="5",
        part_size_mb="5",
        checksum="SHA256",
    )

    summary = run_cli(["upload", str(folder), "--prefix", "files"], env, tmp_path)

    assert summary["records_out"] == 2 and summary["bytes"] == big.stat().st_size + 6
    s3 = s3_client(s3_endpoint)
    head = s3.head_object(Bucket=s3_bucket, Key="landing/files/big.bin", ChecksumMode="ENABLED")
    assert head["ETag"].strip('"').endswith("-3"), head["ETag"]  # a multipart upload of 3 parts
    assert "ChecksumSHA256" in head, head
    assert head["Metadata"]["sha256"] == hashlib.sha256(big.read_bytes()).hexdigest()

    small = s3.head_object(
        Bucket=s3_bucket, Key="landing/files/nested/small.txt", ChecksumMode="ENABLED"
    )
    assert small["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(b"hello\n").digest()).decode()

    # A third-party client sees the same objects and bytes.
    aws = str(aws_cli())
    base = [aws, "--endpoint-url", s3_endpoint, "--region", "us-east-1", "s3"]
    listed = subprocess.run(
        [*base, "ls", "--recursive", f"s3://{s3_bucket}/landing/"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "landing/files/big.bin" in listed and "landing/files/nested/small.txt" in listed
    out = tmp_path / "back"
    subprocess.run(
        [*base, "cp", "--recursive", f"s3://{s3_bucket}/landing/files/", str(out)],
        env=env,
        capture_output=True,
        check=True,
    )
    assert (out / "big.bin").read_bytes() == big.read_bytes()
    assert (out / "nested" / "small.txt").read_text() == "hello\n"


def test_ingested_objects_read_back_with_awscli(
    s3_endpoint: str, s3_bucket: str, tmp_path: Path
) -> None:
    with DemoApi(DemoConfig(records=120, page_size=50, invalid_every=0)) as api:
        env = cli_env(s3_endpoint, lake_url=f"s3://{s3_bucket}", source_url=api.url)
        summary = run_cli(["ingest", "--date", DAY], env, tmp_path)
    aws = str(aws_cli())
    target = tmp_path / "curated.parquet"
    subprocess.run(
        [
            aws,
            "--endpoint-url",
            s3_endpoint,
            "--region",
            "us-east-1",
            "s3",
            "cp",
            f"s3://{s3_bucket}/{CURATED}",
            str(target),
        ],
        env=env,
        capture_output=True,
        check=True,
    )
    assert pq.read_table(target).num_rows == summary["records_out"] == 120
    head = subprocess.run(
        [
            aws,
            "--endpoint-url",
            s3_endpoint,
            "--region",
            "us-east-1",
            "s3api",
            "head-object",
            "--bucket",
            s3_bucket,
            "--key",
            RAW,
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(head.stdout)["Metadata"]["run-id"] == "orders-20240305"


def test_unreachable_api_and_s3_exit_1_with_one_line(
    s3_endpoint: str, s3_bucket: str, tmp_path: Path
) -> None:
    dead = "http://127.0.0.1:9/orders"
    res = cli(
        ["ingest", "--date", DAY],
        cli_env(s3_endpoint, lake_url=f"s3://{s3_bucket}", source_url=dead),
        tmp_path,
    )
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert "api" in res.stderr.strip().splitlines()[-1]
    with DemoApi(DemoConfig(records=10)) as api:
        res = cli(
            ["ingest", "--date", DAY],
            cli_env("http://127.0.0.1:9", lake_url="s3://nowhere", source_url=api.url),
            tmp_path,
        )
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert "s3" in res.stderr.strip().splitlines()[-1]


def test_a_missing_bucket_is_a_user_error(s3_endpoint: str, tmp_path: Path) -> None:
    with DemoApi(DemoConfig(records=10)) as api:
        res = cli(
            ["ingest", "--date", DAY],
            cli_env(s3_endpoint, lake_url="s3://no-such-bucket-here", source_url=api.url),
            tmp_path,
        )
    assert res.returncode == 2, res.stderr
    assert "NoSuchBucket" in res.stderr.strip().splitlines()[-1]
