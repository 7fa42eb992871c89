"""The Lambda-style handler for Kinesis events: `handler(event, context)`.

Records are decoded and checked against the record contract, then written in micro-batches of
`CLOUD_PIPELINE_MICRO_BATCH_RECORDS` to `stream/dt=.../<shard>-<first>-<last>.jsonl.gz`, records
that break the contract to the same name under `errors/` with the reason. A micro-batch that cannot
be written stops the invocation: every record from its first one on is reported in
`batchItemFailures`, so Lambda (with ReportBatchItemFailures) retries from there and the batches
already written are not failed again. Names come from sequence numbers, so a retried micro-batch
overwrites itself instead of duplicating.

Configured by the environment (as a Lambda function is), not by the CLI's settings: the deployment
zip holds boto3 and this package only, no pydantic. Pure Python, so it runs on any Lambda runtime.
"""

from __future__ import annotations

import base64
import functools
import json
import logging
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from cloud_pipeline import lake
from cloud_pipeline.records import jsonl_gz, problem
from cloud_pipeline.storage import ObjectStore, StoreOptions, open_store
from de_common.errors import JobError, UserError

log = logging.getLogger("cloud_pipeline.handler")


@dataclass(frozen=True)
class HandlerConfig:
    """The function's environment."""

    lake_url: str
    endpoint_url: str | None
    region: str
    sse: str
    micro_batch: int

    @classmethod
    def from_env(cls) -> HandlerConfig:
        lake_url = os.environ.get("CLOUD_PIPELINE_LAKE_URL")
        if not lake_url:
            raise UserError("CLOUD_PIPELINE_LAKE_URL is not set")
        return cls(
            lake_url=lake_url,
            endpoint_url=os.environ.get("CLOUD_PIPELINE_ENDPOINT_URL") or None,
            region=os.environ.get("CLOUD_PIPELINE_REGION")
            or os.environ.get("AWS_REGION", "us-east-1"),
            sse=os.environ.get("CLOUD_PIPELINE_SSE", "none"),
            micro_batch=int(os.environ.get("CLOUD_PIPELINE_MICRO_BATCH_RECORDS", "100")),
        )


@functools.lru_cache(maxsize=4)
def store_for(config: HandlerConfig) -> ObjectStore:
    """One store per configuration, kept across warm invocations."""
    options = StoreOptions(region=config.region, endpoint_url=config.endpoint_url, sse=config.sse)
    return open_store(config.lake_url, options)


@dataclass(frozen=True)
class Decoded:
    """One Kinesis record: its sequence number and either the row or why it was rejected."""

    sequence: str
    row: dict[str, Any] | None
    reason: str | None
    raw: str


def decode(record: dict[str, Any]) -> Decoded:
    kinesis = record["kinesis"]
    data = base64.b64decode(kinesis["data"])
    raw = data.decode("utf-8", errors="replace")
    try:
        row = json.loads(data)
    except ValueError as exc:
        return Decoded(kinesis["sequenceNumber"], None, f"not JSON: {exc}", raw)
    reason = problem(row)
    return Decoded(kinesis["sequenceNumber"], None if reason else row, reason, raw)


def handle(event: dict[str, Any], store: ObjectStore, micro_batch: int) -> dict[str, Any]:
    """Write the event's records; the partial-failure report plus counts for the log."""
    records = event.get("Records", [])
    counts = {"records": len(records), "written": 0, "rejected": 0, "failed": 0}
    for start in range(0, len(records), micro_batch):
        chunk = records[start : start + micro_batch]
        try:
            written, rejected = write_micro_batch(chunk, store)
        except (JobError, OSError) as exc:
            failures = [{"itemIdentifier": r["kinesis"]["sequenceNumber"]} for r in records[start:]]
            counts["failed"] = len(failures)
            log.warning("micro-batch failed, reporting %d records: %s", len(failures), exc)
            log.info("handled %s", json.dumps(counts))
            return {"batchItemFailures": failures, "counts": counts}
        counts["written"] += written
        counts["rejected"] += rejected
    log.info("handled %s", json.dumps(counts))
    return {"batchItemFailures": [], "counts": counts}


def write_micro_batch(chunk: list[dict[str, Any]], store: ObjectStore) -> tuple[int, int]:
    """The chunk's valid rows under stream/, its rejects under errors/; (written, rejected)."""
    decoded = [decode(r) for r in chunk]
    first, last = decoded[0].sequence, decoded[-1].sequence
    shard = chunk[0]["eventID"].split(":", 1)[0]
    day = arrival_day(chunk[0])
    rows = [d.row for d in decoded if d.row is not None]
    rejects = [
        {"sequence": d.sequence, "reason": d.reason, "record": d.raw} for d in decoded if d.reason
    ]
    meta = {"first-sequence": first, "last-sequence": last}
    if rows:
        key = lake.stream_key(lake.STREAM, shard, first, last, day)
        store.put_bytes(key, jsonl_gz(rows), {**meta, "rows": str(len(rows))})
    if rejects:
        key = lake.stream_key(f"{lake.ERRORS}/{lake.STREAM}", shard, first, last, day)
        store.put_bytes(key, jsonl_gz(rejects), {**meta, "rows": str(len(rejects))})
    return len(rows), len(rejects)


def arrival_day(record: dict[str, Any]) -> date:
    stamp = record["kinesis"].get("approximateArrivalTimestamp")
    moment = datetime.fromtimestamp(float(stamp), UTC) if stamp else datetime.now(UTC)
    return moment.date()


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry point: `cloud_pipeline.handler.handler`."""
    config = HandlerConfig.from_env()
    result = handle(event, store_for(config), config.micro_batch)
    # Lambda reads only batchItemFailures; the counts go to the log line above.
    return {"batchItemFailures": result["batchItemFailures"]}
