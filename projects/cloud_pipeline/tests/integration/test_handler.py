"""The Lambda handler, run from the deployment zip in a bare interpreter, on Kinesis events built
from records read back from the real stream; its partial-failure report; and `drain`, which
feeds it the way an event source mapping does."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from cloud_pipeline.kinesis_events import event
from cloud_pipeline.packaging import build_zip

from de_services.testing import s3_client

from .conftest import cli_env, read_stream, run_cli
from .fault_proxy import FaultProxy

pytestmark = pytest.mark.integration

INVOKE = """
import json, sys
from cloud_pipeline.handler import handler
print(json.dumps(handler(json.load(sys.stdin), None)))
"""


def produce(endpoint: str, stream: str, tmp: Path, count: int) -> None:
    """`count` records, one in 25 breaking the contract (an amount of "n/a")."""
    lines = []
    for i in range(count):
        amount: Any = "n/a" if i % 25 == 24 else i / 4
        lines.append(
            json.dumps(
                {
                    "id": i,
                    "updated_at": "2024-01-01T00:00:00Z",
                    "customer": f"c{i % 5}",
                    "amount": amount,
                }
            )
        )
    path = tmp / "events.jsonl"
    path.write_text("\n".join(lines) + "\n")
    run_cli(["produce", str(path)], cli_env(endpoint, stream=stream), tmp)


@pytest.fixture(scope="module")
def lambda_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The zip `nox -s lambda_zip` builds, unpacked as Lambda unpacks it."""
    folder = tmp_path_factory.mktemp("lambda")
    archive = build_zip(folder / "function.zip")
    with zipfile.ZipFile(archive) as zf:
        names = zf.namelist()
        assert "cloud_pipeline/handler.py" in names and "boto3/__init__.py" in names
        zf.extractall(folder / "task")
    return folder / "task"


def invoke(task: Path, payload: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    """Run the handler from the unpacked zip: `python -S` (no site-packages), only the zip on the path."""
    code = f"import sys; sys.path.insert(0, {str(task)!r})\n" + INVOKE
    res = subprocess.run(
        [sys.executable, "-S", "-c", code],
        input=json.dumps(payload),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    result: dict[str, Any] = json.loads(res.stdout.strip().splitlines()[-1])
    return result


def objects(s3: Any, bucket: str, prefix: str) -> dict[str, list[dict[str, Any]]]:
    found = {}
    for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", []):
        body = s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
        found[o["Key"]] = [json.loads(line) for line in gzip.decompress(body).splitlines()]
    return found


def test_zipped_handler_reports_partial_failures_and_a_retry_completes_exactly_once(
    lambda_dir: Path, s3_endpoint: str, s3_bucket: str, kinesis_stream: str, tmp_path: Path
) -> None:
    produce(s3_endpoint, kinesis_stream, tmp_path, 250)
    records = read_stream(s3_endpoint, kinesis_stream)
    kinesis = s3_client(s3_endpoint, "kinesis")
    arn = kinesis.describe_stream_summary(StreamName=kinesis_stream)["StreamDescriptionSummary"][
        "StreamARN"
    ]
    payload = event(records, arn, "shardId-000000000000", "us-east-1")
    sequences = [r["SequenceNumber"] for r in records]
    s3 = s3_client(s3_endpoint)

    with FaultProxy(s3_endpoint) as proxy:
        env = {
            **cli_env(proxy.url),
            "CLOUD_PIPELINE_LAKE_URL": f"s3://{s3_bucket}",
            "CLOUD_PIPELINE_MICRO_BATCH_RECORDS": "100",
        }
        # S3 refuses the second micro-batch's object (503 SlowDown on every try).
        proxy.fail_put = lambda path: sequences[100] in path
        first = invoke(lambda_dir, payload, env)
        assert proxy.failed_puts  # the injected failure was hit
        failures = [f["itemIdentifier"] for f in first["batchItemFailures"]]
        assert failures == sequences[100:]  # from the failed micro-batch on, not the whole batch
        written = objects(s3, s3_bucket, "stream/")
        assert [len(rows) for rows in written.values()] == [96]  # batch 1: 100 less 4 rejects

        # Lambda retries from the first failure; this time S3 takes it.
        proxy.fail_put = lambda path: False
        retry = {
            "Records": [
                r for r in payload["Records"] if r["kinesis"]["sequenceNumber"] in set(failures)
            ]
        }
        assert invoke(lambda_dir, retry, env) == {"batchItemFailures": []}
        # A full redelivery overwrites the same objects instead of adding new ones.
        keys_before = set(objects(s3, s3_bucket, ""))
        assert invoke(lambda_dir, payload, env) == {"batchItemFailures": []}
        assert set(objects(s3, s3_bucket, "")) == keys_before

    rows = [row for batch in objects(s3, s3_bucket, "stream/").values() for row in batch]
    rejects = [row for batch in objects(s3, s3_bucket, "errors/stream/").values() for row in batch]
    assert Counter(r["id"] for r in rows) == Counter(i for i in range(250) if i % 25 != 24)
    assert sorted(r["sequence"] for r in rejects) == sorted(
        sequences[i] for i in range(250) if i % 25 == 24
    )
    assert all("amount has the wrong type" in r["reason"] for r in rejects)


def test_drain_feeds_the_handler_and_resumes_from_its_checkpoint(
    s3_endpoint: str, s3_bucket: str, kinesis_stream: str, tmp_path: Path
) -> None:
    produce(s3_endpoint, kinesis_stream, tmp_path, 300)
    env = cli_env(s3_endpoint, lake_url=f"s3://{s3_bucket}", stream=kinesis_stream)
    first = run_cli(["drain", "--limit", "120", "--micro-batch", "50"], env, tmp_path)
    assert (first["records_in"], first["records_out"], first["records_rejected"]) == (300, 288, 12)

    again = run_cli(["drain"], env, tmp_path)
    assert again["records_in"] == 0  # the checkpoint is past everything

    produce(s3_endpoint, kinesis_stream, tmp_path, 30)
    more = run_cli(["drain"], env, tmp_path)
    assert more["records_in"] == 30
    s3 = s3_client(s3_endpoint)
    rows = [row for batch in objects(s3, s3_bucket, "stream/").values() for row in batch]
    assert len(rows) == 288 + 29
