"""The handler's decoding, micro-batching and keys over a folder lake (no service)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path

from cloud_pipeline.handler import handle
from cloud_pipeline.kinesis_events import event
from cloud_pipeline.records import read_jsonl_gz
from cloud_pipeline.storage import StoreOptions, open_store


def records(count: int) -> list[dict[str, object]]:
    out = []
    for i in range(count):
        row = {"id": i, "updated_at": "2024-01-01T00:00:00Z", "customer": "c", "amount": 1}
        data = b"{broken" if i == 3 else json.dumps(row).encode()
        out.append(
            {
                "SequenceNumber": f"{1000 + i:030d}",
                "PartitionKey": "c",
                "Data": data,
                "ApproximateArrivalTimestamp": datetime(2024, 1, 1, 12, tzinfo=UTC),
            }
        )
    return out


def test_micro_batches_named_by_sequence_range_with_rejects_beside(tmp_path: Path) -> None:
    store = open_store(f"file://{tmp_path}/lake", StoreOptions())
    payload = event(
        records(25), "arn:aws:kinesis:us-east-1:1:stream/s", "shardId-000000000000", "us-east-1"
    )
    assert payload["Records"][3]["kinesis"]["data"] == base64.b64encode(b"{broken").decode()

    result = handle(payload, store, micro_batch=10)

    assert result["batchItemFailures"] == []
    assert result["counts"] == {"records": 25, "written": 24, "rejected": 1, "failed": 0}
    assert store.keys("stream/") == [
        f"stream/dt=2024-01-01/shardId-000000000000-{1000 + a:030d}-{1000 + b:030d}.jsonl.gz"
        for a, b in ((0, 9), (10, 19), (20, 24))
    ]
    (reject_key,) = store.keys("errors/stream/")
    (reject,) = read_jsonl_gz(store.get(reject_key))
    assert reject["sequence"] == f"{1003:030d}" and reject["reason"].startswith("not JSON")
    assert reject_key.endswith(f"-{1000:030d}-{1009:030d}.jsonl.gz")  # beside its micro-batch

    # Delivered again (Lambda retries), the same objects are overwritten: no new keys.
    before = store.keys()
    handle(payload, store, micro_batch=10)
    assert store.keys() == before
