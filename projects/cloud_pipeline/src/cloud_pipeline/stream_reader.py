"""Reads a stream shard by shard from checkpoints kept in the lake, as a Lambda event source
mapping does: each GetRecords batch becomes one Kinesis event; the checkpoint moves only after
the batch was handled, so a crash re-reads (and the handler's keys make that idempotent)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from cloud_pipeline.kinesis_events import event
from cloud_pipeline.storage import ObjectStore
from de_common.errors import JobError
from de_common.faults import fault_point

CHECKPOINTS = "checkpoints"


class StreamReader:
    def __init__(self, kinesis: Any, stream: str, region: str, store: ObjectStore) -> None:
        self.kinesis = kinesis
        self.stream = stream
        self.region = region
        self.store = store
        summary = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]
        self.arn = str(summary["StreamARN"])

    def _checkpoint_key(self, shard: str) -> str:
        return f"{CHECKPOINTS}/{self.stream}/{shard}.json"

    def position(self, shard: str) -> str | None:
        """The last sequence number handled on the shard, or None to start at the horizon."""
        key = self._checkpoint_key(shard)
        if key not in self.store.keys(key):
            return None
        return str(json.loads(self.store.get(key))["sequence"])

    def checkpoint(self, shard: str, sequence: str) -> None:
        fault_point("drain.before_checkpoint")
        body = json.dumps({"stream": self.stream, "shard": shard, "sequence": sequence}).encode()
        self.store.put_bytes(self._checkpoint_key(shard), body, {})

    def shards(self) -> list[str]:
        found: list[str] = []
        for page in self.kinesis.get_paginator("list_shards").paginate(StreamName=self.stream):
            found.extend(s["ShardId"] for s in page["Shards"])
        return sorted(found)

    def events(self, limit: int) -> Iterator[tuple[str, dict[str, Any]]]:
        """(shard, event) per non-empty GetRecords batch, until every shard is caught up."""
        for shard in self.shards():
            after = self.position(shard)
            kwargs: dict[str, Any] = (
                {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "StartingSequenceNumber": after}
                if after
                else {"ShardIteratorType": "TRIM_HORIZON"}
            )
            iterator = self.kinesis.get_shard_iterator(
                StreamName=self.stream, ShardId=shard, **kwargs
            )["ShardIterator"]
            for _ in range(1_000_000):
                resp = self.kinesis.get_records(ShardIterator=iterator, Limit=limit)
                records = resp["Records"]
                if records:
                    yield shard, event(records, self.arn, shard, self.region)
                iterator = resp.get("NextShardIterator")
                if not iterator or (not records and resp.get("MillisBehindLatest", 0) == 0):
                    break
            else:
                raise JobError(f"kinesis {self.stream}/{shard}: never caught up")
