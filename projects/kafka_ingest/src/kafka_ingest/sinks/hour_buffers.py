"""The records a Parquet sink holds in memory: one buffer per Kafka partition and hour.

A batch is cut into runs of rows with the same (topic, partition, hour); each run is appended to
its buffer as a zero-copy slice of the batch table. When a batch scatters over many hours (a
replay of a month, late data) it is sorted once by those keys first, so each buffer gets one
slice per batch instead of one per row. A buffer is due to roll into a file once it holds
`records` rows or `bytes` bytes, or `age_s` seconds after its first row; when all buffers
together pin more than `max_buffered_bytes` of Arrow memory, the oldest are due as well.

Memory is counted on the batch tables the slices keep alive, not on the slices, because a slice
pins its whole table: a table is released once every buffer holding a slice of it has rolled.
Rolling oldest-first releases the oldest tables first.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pyarrow.compute as pc

from kafka_ingest.sinks import TopicPartitionKey

# topic, partition, first microsecond of the hour (UTC, since the epoch)
BucketKey = tuple[str, int, int]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Bytes a row costs besides its value (ids, key, kind, time, offsets), for the roll_bytes estimate.
ROW_OVERHEAD = 96
# Sort a batch when its runs are shorter than this on average (rows scattered over many hours).
SORT_BELOW_RUN_LENGTH = 16


@dataclass(frozen=True)
class RollPolicy:
    """When a buffer becomes a file (see config.py for the settings behind each field)."""

    records: int = 1_000_000
    bytes: int = 128 * 1024 * 1024
    age_s: float = 60.0
    max_buffered_bytes: int = 512 * 1024 * 1024


@dataclass
class Bucket:
    """The rows of one partition and hour not yet in a file, in offset order."""

    topic: str
    partition: int
    hour_us: int
    opened: float
    first: int
    last: int = -1
    rows: int = 0
    nbytes: int = 0
    parts: list[pa.Table] = field(default_factory=list)
    pins: list[int] = field(default_factory=list)

    @property
    def hour(self) -> datetime:
        """The hour the rows' times fall in (UTC)."""
        return EPOCH + timedelta(microseconds=self.hour_us)

    def table(self) -> pa.Table:
        """The rows as one table with contiguous columns."""
        if len(self.parts) == 1:
            return self.parts[0]
        return pa.concat_tables(self.parts).combine_chunks()


@dataclass
class _Pinned:
    nbytes: int
    refs: int


def _run_starts(columns: list[pa.Array]) -> list[int]:
    """Row indexes where the key (the columns together) differs from the row before."""
    rows = len(columns[0])
    if rows == 0:
        return []
    changed: pa.Array | None = None
    for column in columns:
        differs = pc.not_equal(column.slice(1), column.slice(0, rows - 1))
        changed = differs if changed is None else pc.or_(changed, differs)
    assert changed is not None
    return [0, *pc.add(pc.indices_nonzero(changed), 1).to_pylist()]


def _keys(table: pa.Table) -> list[pa.Array]:
    """topic, partition and hour (its first microsecond) of each row, as contiguous arrays."""
    hours = pc.cast(pc.floor_temporal(table["ts"], unit="hour"), pa.int64())
    return [c.combine_chunks() for c in (table["topic"], table["partition"], hours)]


class HourBuffers:
    """Buffers keyed by (topic, partition, hour), oldest first."""

    def __init__(self, policy: RollPolicy) -> None:
        self.policy = policy
        self.buckets: dict[BucketKey, Bucket] = {}
        self._pinned: dict[int, _Pinned] = {}
        self._next_pin = 0
        self.pinned_bytes = 0
        self._touched: set[BucketKey] = set()

    def __len__(self) -> int:
        return sum(b.rows for b in self.buckets.values())

    def add(self, table: pa.Table, now: float | None = None) -> None:
        """Append a table's rows (each partition's in offset order) to their buffers."""
        if not table.num_rows:
            return
        now = time.monotonic() if now is None else now
        keys = _keys(table)
        starts = _run_starts(keys)
        if len(starts) * SORT_BELOW_RUN_LENGTH > table.num_rows:
            # A stable sort keeps each partition's offsets in order within a key.
            order = pc.sort_indices(
                pa.table({"t": keys[0], "p": keys[1], "h": keys[2]}),
                sort_keys=[("t", "ascending"), ("p", "ascending"), ("h", "ascending")],
            )
            table = table.take(order)
            keys = [k.take(order) for k in keys]
            starts = _run_starts(keys)
        ends = [*starts[1:], table.num_rows]
        first_rows = pa.array(starts, pa.int64())
        last_rows = pa.array([end - 1 for end in ends], pa.int64())
        row_bytes = pc.add(pc.binary_length(table["value"]), ROW_OVERHEAD)
        # Bytes up to the end of each run: the runs cover the table, so a run's own bytes are
        # the difference to the run before it.
        upto = pc.take(pc.cumulative_sum(row_bytes), last_rows).to_pylist()
        firsts = pc.take(table["offset"], first_rows).to_pylist()
        last_offsets = pc.take(table["offset"], last_rows).to_pylist()
        topics, partitions, hours = (pc.take(k, first_rows).to_pylist() for k in keys)
        pin = self._pin(table, len(starts))
        for i, start in enumerate(starts):
            key = (topics[i], partitions[i], hours[i])
            bucket = self.buckets.get(key)
            if bucket is None:
                bucket = self.buckets[key] = Bucket(key[0], key[1], key[2], now, firsts[i])
            length = ends[i] - start
            bucket.parts.append(table.slice(start, length))
            bucket.pins.append(pin)
            bucket.rows += length
            bucket.nbytes += upto[i] - (upto[i - 1] if i else 0)
            bucket.first = min(bucket.first, firsts[i])
            bucket.last = max(bucket.last, last_offsets[i])
            self._touched.add(key)

    def _pin(self, table: pa.Table, refs: int) -> int:
        pin = self._next_pin
        self._next_pin += 1
        nbytes = int(table.nbytes)
        self._pinned[pin] = _Pinned(nbytes, refs)
        self.pinned_bytes += nbytes
        return pin

    def _unpin(self, pins: Iterable[int]) -> None:
        for pin in pins:
            pinned = self._pinned[pin]
            pinned.refs -= 1
            if not pinned.refs:
                self.pinned_bytes -= pinned.nbytes
                del self._pinned[pin]

    def due(self, now: float | None = None) -> list[BucketKey]:
        """The buffers to roll now: full, old, or the oldest while memory is over its bound."""
        now = time.monotonic() if now is None else now
        policy = self.policy
        chosen: dict[BucketKey, None] = {}
        for key in self._touched:
            bucket = self.buckets.get(key)
            if bucket is not None and (
                bucket.rows >= policy.records or bucket.nbytes >= policy.bytes
            ):
                chosen[key] = None
        self._touched.clear()
        # Insertion order is opening order: the oldest come first.
        for key, bucket in self.buckets.items():
            if now - bucket.opened < policy.age_s:
                break
            chosen[key] = None
        if self.pinned_bytes > policy.max_buffered_bytes:
            # Roll the oldest until their rows add up to half the bound below the pinned total.
            excess = self.pinned_bytes - policy.max_buffered_bytes // 2
            for key, bucket in self.buckets.items():
                if excess <= 0:
                    break
                chosen[key] = None
                excess -= bucket.nbytes
        return list(chosen)

    def of(self, partitions: Collection[TopicPartitionKey] | None) -> list[BucketKey]:
        """The buffers of these partitions (None: all)."""
        if partitions is None:
            return list(self.buckets)
        return [k for k in self.buckets if (k[0], k[1]) in partitions]

    def take(self, keys: Iterable[BucketKey]) -> list[Bucket]:
        """Remove these buffers and hand them over (to be written, or forgotten)."""
        taken = [self.buckets.pop(k) for k in keys]
        for bucket in taken:
            self._unpin(bucket.pins)
        return taken

    def held(self) -> dict[TopicPartitionKey, int]:
        """Per partition, the first offset still in a buffer."""
        first: dict[TopicPartitionKey, int] = {}
        for bucket in self.buckets.values():
            tp = (bucket.topic, bucket.partition)
            if tp not in first or bucket.first < first[tp]:
                first[tp] = bucket.first
        return first
