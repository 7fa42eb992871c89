"""The producer on the real moto Kinesis endpoint: PutRecords batches within the limits, and with a
throttling proxy in front (moto never throttles), only the failed records are sent again."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path

import pytest

from de_services.testing import s3_client

from .conftest import cli_env, read_stream, run_cli
from .fault_proxy import FaultProxy

pytestmark = pytest.mark.integration


def events_file(path: Path, count: int, bad_every: int = 0) -> Path:
    with path.open("w") as out:
        for i in range(count):
            if bad_every and i % bad_every == bad_every - 1:
                out.write("{not json\n")
                continue
            out.write(
                json.dumps(
                    {
                        "id": i,
                        "updated_at": "2024-01-01T00:00:00Z",
                        "customer": f"c{i % 7}",
                        "amount": i / 10,
                    }
                )
                + "\n"
            )
    return path


def test_batches_respect_500_records_and_every_record_lands_once(
    s3_endpoint: str, s3_bucket: str, kinesis_stream: str, tmp_path: Path
) -> None:
    data = events_file(tmp_path / "events.jsonl", 1_234, bad_every=100)
    with FaultProxy(s3_endpoint) as proxy:
        env = cli_env(proxy.url, lake_url=f"s3://{s3_bucket}", stream=kinesis_stream)
        summary = run_cli(["produce", str(data)], env, tmp_path)

    sizes = [len(call) for call in proxy.put_records_calls]
    assert sizes == [500, 500, 222]  # 1,234 lines less 12 that are not JSON
    assert summary["records_out"] == 1_222 and summary["records_rejected"] == 12
    assert summary["calls"] == 3 and summary["retried"] == 0
    ids = [json.loads(r["Data"])["id"] for r in read_stream(s3_endpoint, kinesis_stream)]
    assert sorted(ids) == [i for i in range(1_234) if i % 100 != 99]
    # The lines that could not be sent are quarantined under errors/ with the reason.
    s3 = s3_client(s3_endpoint)
    (key,) = [o["Key"] for o in s3.list_objects_v2(Bucket=s3_bucket, Prefix="errors/")["Contents"]]
    rejects = [
        json.loads(line)
        for line in gzip.decompress(
            s3.get_object(Bucket=s3_bucket, Key=key)["Body"].read()
        ).splitlines()
    ]
    assert len(rejects) == 12 and all(r["reason"].startswith("not JSON") for r in rejects)


def test_the_byte_limit_splits_batches(
    s3_endpoint: str, kinesis_stream: str, tmp_path: Path
) -> None:
    path = tmp_path / "wide.jsonl"
    pad = "x" * 60_000
    path.write_text(
        "".join(json.dumps({"id": i, "customer": "c", "pad": pad}) + "\n" for i in range(200))
    )
    with FaultProxy(s3_endpoint) as proxy:
        env = cli_env(proxy.url, stream=kinesis_stream, batch_max_bytes=str(1024 * 1024))
        summary = run_cli(["produce", str(path)], env, tmp_path)
    assert summary["records_out"] == 200
    assert all(sum(len(d) + 1 for d in call) <= 1024 * 1024 for call in proxy.put_records_calls)
    assert len(proxy.put_records_calls) == 12  # 17 records of ~60 KB per MiB
    assert len(read_stream(s3_endpoint, kinesis_stream)) == 200


def test_throttled_records_and_only_those_are_retried_with_backoff(
    s3_endpoint: str, kinesis_stream: str, tmp_path: Path
) -> None:
    data = events_file(tmp_path / "events.jsonl", 700)

    def throttled(record: bytes, seen: int) -> bool:
        # One record in 7 is throttled on its first two attempts (a hot shard, then relief).
        return json.loads(record)["id"] % 7 == 0 and seen <= 2

    with FaultProxy(s3_endpoint) as proxy:
        proxy.throttle = throttled
        env = cli_env(proxy.url, stream=kinesis_stream, backoff_s="0.05")
        summary = run_cli(["produce", str(data)], env, tmp_path)

    hot = {i for i in range(700) if i % 7 == 0}
    calls = [[json.loads(d)["id"] for d in call] for call in proxy.put_records_calls]
    # Batch 1 (500) and batch 2 (200) each: the full batch, then only its throttled ids, twice.
    assert [len(c) for c in calls] == [500, 72, 72, 200, 28, 28]
    assert set(calls[1]) == set(calls[2]) == {i for i in calls[0] if i in hot}
    assert set(calls[4]) == set(calls[5]) == {i for i in calls[3] if i in hot}
    assert summary["records_out"] == 700 and summary["retried"] == 200
    assert summary["errors"] == {"ProvisionedThroughputExceededException": 200}
    landed = Counter(json.loads(r["Data"])["id"] for r in read_stream(s3_endpoint, kinesis_stream))
    assert landed == Counter(range(700))  # each exactly once: failed records were not written


def test_records_throttled_past_max_attempts_fail_the_run_and_are_quarantined(
    s3_endpoint: str, s3_bucket: str, kinesis_stream: str, tmp_path: Path
) -> None:
    data = events_file(tmp_path / "events.jsonl", 50)
    with FaultProxy(s3_endpoint) as proxy:
        proxy.throttle = lambda record, seen: json.loads(record)["id"] in (3, 4)
        env = cli_env(
            proxy.url,
            lake_url=f"s3://{s3_bucket}",
            stream=kinesis_stream,
            backoff_s="0.01",
            max_attempts="4",
        )
        summary = run_cli(["produce", str(data)], env, tmp_path, expect=1)
    assert summary["status"] == "failed" and "2 records not delivered" in summary["error"]
    assert (summary["records_out"], summary["records_rejected"]) == (48, 2)
    assert len(proxy.put_records_calls) == 4
    s3 = s3_client(s3_endpoint)
    (key,) = [o["Key"] for o in s3.list_objects_v2(Bucket=s3_bucket, Prefix="errors/")["Contents"]]
    rejects = [
        json.loads(line)
        for line in gzip.decompress(
            s3.get_object(Bucket=s3_bucket, Key=key)["Body"].read()
        ).splitlines()
    ]
    assert sorted(json.loads(r["record"])["id"] for r in rejects) == [3, 4]
    assert all(
        r["reason"] == "ProvisionedThroughputExceededException after 4 attempts" for r in rejects
    )
