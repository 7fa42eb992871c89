"""Durable, idempotent destinations for consumed records."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Protocol

from kafka_ingest.batch import Batch

# A Kafka partition as the sinks and the consumer key it.
TopicPartitionKey = tuple[str, int]


@dataclass
class WriteResult:
    """How many records a write stored (in how many new files) and how many it already had."""

    written: int = 0
    duplicates: int = 0
    files: int = 0

    def __iadd__(self, other: WriteResult) -> WriteResult:
        self.written += other.written
        self.duplicates += other.duplicates
        self.files += other.files
        return self


class Sink(Protocol):
    """Written once per batch, before offsets are committed; must tolerate the same batch twice.

    A sink may hold records in memory across batches (the Parquet sink buffers per partition and
    hour); `held()` tells the consumer where each partition's first such record is, and the
    consumer never commits past it.
    """

    name: str

    def assigned(self, topic: str, partitions: Sequence[int]) -> dict[int, int]:
        """Recover after (re)assignment; return partitions whose resume offset the sink knows."""
        ...

    def write(self, batch: Batch) -> WriteResult:
        """Take a batch; `written` counts the records that are durable now (this batch's or
        earlier ones'), `duplicates` those of this batch the sink already had."""
        ...

    def held(self) -> dict[TopicPartitionKey, int]:
        """Per partition, the offset of the first record taken but not yet durable."""
        ...

    def release(self, partitions: Collection[TopicPartitionKey] | None) -> WriteResult:
        """Make everything held for these partitions (None: all) durable now."""
        ...

    def drop(self, partitions: Collection[TopicPartitionKey]) -> int:
        """Forget what is held for partitions this member lost; return how many records."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
