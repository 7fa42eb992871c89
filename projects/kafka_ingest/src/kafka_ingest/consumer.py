"""At-least-once batch consumer: sink first, commit second, commit again on revocation.

Offsets are committed only after every sink has durably stored the batch and every poison message of
the batch is acknowledged by the DLQ. A sink may hold records in memory across batches (the Parquet
sink buffers per partition and hour): a partition's commit then stops at the first record a sink
still holds. The sinks are idempotent (offset manifest for Parquet, event id for PostgreSQL), which
turns redelivery after a crash or a rebalance into effectively-once output.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from confluent_kafka import (
    OFFSET_INVALID,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    TopicPartition,
)

from de_common.errors import JobError
from kafka_ingest.batch import Batch, decode
from kafka_ingest.dlq import DeadLetters
from kafka_ingest.events import InvalidEvent, Record, parse_record
from kafka_ingest.sinks import Sink, TopicPartitionKey
from kafka_ingest.telemetry import IngestMetrics

log = logging.getLogger(__name__)

CONSUME_TIMEOUT_S = 0.2
MAX_FETCH = 20_000


@dataclass
class ConsumeResult:
    """The balance of one consumer run: in = written + duplicates + dlq."""

    records_in: int = 0
    written: int = 0
    duplicates: int = 0
    dlq: int = 0
    batches: int = 0
    files_written: int = 0
    commits: int = 0
    commit_failures: int = 0
    revocations: int = 0
    lost: int = 0
    dropped_on_loss: int = 0
    peak_enrichments: int = 0
    lag: dict[str, int] = field(default_factory=dict)


@dataclass
class StopWhen:
    """When a run ends by itself (a service runs until SIGTERM with all of these unset)."""

    max_messages: int | None = None
    idle_timeout_s: float | None = None
    at_end: bool = False


class BatchConsumer:
    """Consumes, decodes, routes poison to the DLQ, writes batches to the sinks, then commits."""

    def __init__(
        self,
        consumer: Consumer,
        sinks: Sequence[Sink],
        dlq: DeadLetters,
        *,
        batch_size: int,
        batch_timeout_s: float,
        metrics: IngestMetrics | None = None,
        stop: StopWhen | None = None,
        commit: bool = True,
    ) -> None:
        self.consumer = consumer
        self.sinks = list(sinks)
        self.dlq = dlq
        self.batch_size = batch_size
        self.batch_timeout_s = batch_timeout_s
        self.metrics = metrics
        self.stop = stop or StopWhen()
        self.commit_enabled = commit
        self.result = ConsumeResult()
        self.pending = Batch()
        # Next offset per partition (last handled + 1, poison included): what moved since the
        # last flush, and everything handled; what is committed lags behind what sinks hold.
        self.offsets: dict[tuple[str, int], int] = {}
        self.handled: dict[tuple[str, int], int] = {}
        self.committed: dict[tuple[str, int], int] = {}
        self.ends: dict[tuple[str, int], int] = {}
        self.positions: dict[tuple[str, int], int] = {}
        self.stopping = threading.Event()
        self.assignment: set[tuple[str, int]] = set()
        self.ever_assigned = False
        self.closing = False
        self._dlq_counted = 0
        self.batch_started = time.monotonic()

    # --- rebalance callbacks (run inside consume()) -------------------------------------------

    def on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Let the sinks recover, start where they say if they all know, track end offsets."""
        self._prepare(partitions)
        consumer.incremental_assign(partitions)
        self.assignment |= {(tp.topic, tp.partition) for tp in partitions}
        self.ever_assigned = True
        log.info("assigned", extra={"partitions": [p.partition for p in partitions]})

    def _prepare(self, partitions: list[TopicPartition]) -> None:
        by_topic: dict[str, list[int]] = {}
        for tp in partitions:
            by_topic.setdefault(tp.topic, []).append(tp.partition)
        for topic, parts in by_topic.items():
            known = [sink.assigned(topic, parts) for sink in self.sinks]
            for tp in partitions:
                if tp.topic != topic or not known:
                    continue
                offsets = [k.get(tp.partition) for k in known]
                if all(o is not None for o in offsets) and tp.offset < 0:
                    tp.offset = min(o for o in offsets if o is not None)
        if self.stop.at_end:
            committed = {(tp.topic, tp.partition): tp.offset for tp in partitions}
            if self.commit_enabled:
                try:
                    for tp in self.consumer.committed(
                        [TopicPartition(t, p) for (t, p) in committed], timeout=10
                    ):
                        if committed[(tp.topic, tp.partition)] < 0:
                            committed[(tp.topic, tp.partition)] = tp.offset
                except KafkaException as exc:
                    log.warning("committed offsets unavailable", extra={"error": str(exc)})
            for tp in partitions:
                low, high = self.consumer.get_watermark_offsets(tp, timeout=10)
                key = (tp.topic, tp.partition)
                self.ends[key] = high
                start = committed[key]
                self.positions[key] = start if start >= 0 else low

    def on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Finish and commit the batch in hand before the partitions move to another member."""
        log.info("revoking", extra={"partitions": [p.partition for p in partitions]})
        revoked = {(tp.topic, tp.partition) for tp in partitions}
        if not self.closing:
            # While closing, run() has flushed already, or failed and must not write again.
            self.result.revocations += 1
            self.before_revoke(revoked)
        for key in revoked:
            self._forget(key)

    def before_revoke(self, partitions: Collection[TopicPartitionKey]) -> None:
        """Flush what is pending and what the sinks hold of these partitions; the async variant
        drains its stages first."""
        self.flush(release=partitions)

    def _forget(self, key: TopicPartitionKey) -> None:
        self.ends.pop(key, None)
        self.assignment.discard(key)
        for offsets in (self.offsets, self.handled, self.committed):
            offsets.pop(key, None)

    def on_lost(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """The group moved on without us: drop their pending records, another member redoes them."""
        self.result.lost += 1
        lost = {(tp.topic, tp.partition) for tp in partitions}
        dropped = self.pending.drop_partitions(lost)
        for sink in self.sinks:
            held = sink.drop(lost)
            # Counted in by us, but out only when durable: forget them like the pending ones.
            dropped += held if sink is self.sinks[0] else 0
        self.result.dropped_on_loss += dropped
        self.result.records_in -= dropped
        for key in lost:
            self._forget(key)
        log.warning("partitions lost", extra={"partitions": sorted(p for _, p in lost)})

    # --- per message ----------------------------------------------------------------------------

    def decode(self, msg: Message) -> Record | None:
        """A record, or None after sending the message to the DLQ with the reason."""
        topic, partition, offset = msg.topic(), msg.partition(), msg.offset()
        value = msg.value()
        try:
            return parse_record(value, topic, partition, offset)  # type: ignore[arg-type, unused-ignore]
        except InvalidEvent as exc:
            self.dlq.send(
                msg.value(),
                msg.key(),
                str(exc),
                topic=topic,
                partition=partition,
                offset=offset,
            )
            return None

    def track(self, topic: str, partition: int, offset: int, record: Record | None) -> None:
        """Count one handled message and make its offset committable with the batch."""
        self.result.records_in += 1
        if record is None:
            self.result.dlq += 1
        else:
            self.pending.append(record)
        key = (topic, partition)
        self.offsets[key] = offset + 1
        self.positions[key] = offset + 1

    def handle(self, msgs: list[Message]) -> None:
        """Decode a whole fetch at once: the consumer's hot path (see columnar.py)."""
        kept = [m for m in msgs if m.error() is None or self.check_error(m)]
        if not kept:
            return
        values = [m.value() for m in kept]
        topics: list[str] = [m.topic() for m in kept]  # type: ignore[misc, unused-ignore]
        partitions: list[int] = [m.partition() for m in kept]  # type: ignore[misc, unused-ignore]
        offsets: list[int] = [m.offset() for m in kept]  # type: ignore[misc, unused-ignore]
        decoded = decode(values, topics, partitions, offsets)
        self.pending.add_table(decoded.table)
        for record in decoded.records:
            self.pending.append(record)
        for i, reason in decoded.poison:
            self.dlq.send(
                values[i],
                kept[i].key(),
                reason,
                topic=topics[i],
                partition=partitions[i],
                offset=offsets[i],
            )
        self.result.records_in += len(kept)
        self.result.dlq += len(decoded.poison)
        # A fetch holds each partition's messages in offset order: the last one per key wins.
        last = dict(zip(zip(topics, partitions, strict=True), offsets, strict=True))
        following = {key: offset + 1 for key, offset in last.items()}
        self.offsets.update(following)
        self.positions.update(following)

    def check_error(self, msg: Message) -> bool:
        """True if msg is a real message; fatal errors stop the run."""
        err = msg.error()
        if err is None:
            return True
        if err.fatal():
            raise JobError(f"kafka consumer failed: {err.str()}")
        if err.code() != KafkaError._PARTITION_EOF:
            log.warning("consumer error", extra={"error": err.str()})
        return False

    # --- batches --------------------------------------------------------------------------------

    def flush(self, release: Collection[TopicPartitionKey] | None = ()) -> None:
        """DLQ acknowledged, sinks durable, then commit: the order that makes this at-least-once.

        `release`: partitions (None: all) whose records the sinks must not keep in memory any
        longer (a revocation, the end of the run); other held records stay until they are due.
        """
        new = bool(self.pending or self.offsets)
        releasing = release is None or bool(release)
        if not (new or releasing or self._sinks_hold() or self._committable()):
            return
        self.dlq.confirm()
        for sink in self.sinks:
            outcome = sink.write(self.pending)
            if releasing:
                outcome += sink.release(release)
            self.result.files_written += outcome.files
            if sink is self.sinks[0]:
                self.result.written += outcome.written
                self.result.duplicates += outcome.duplicates
                if self.metrics is not None:
                    self.metrics.count("consumed", outcome.written)
                    self.metrics.count("duplicate", outcome.duplicates)
        if self.metrics is not None:
            self.metrics.count("dlq", self.dlq.sent - self._dlq_counted)
            self._dlq_counted = self.dlq.sent
        self.result.batches += int(new)
        self.pending = Batch()
        self.handled.update(self.offsets)
        self.offsets = {}
        self.batch_started = time.monotonic()
        offsets = self._committable()
        if self.commit_enabled and offsets:
            self._commit(offsets)

    def _sinks_hold(self) -> bool:
        return any(sink.held() for sink in self.sinks)

    def _committable(self) -> list[TopicPartition]:
        """Per partition, the next offset to read, but never past a record a sink still holds."""
        target = dict(self.handled)
        for sink in self.sinks:
            for key, first in sink.held().items():
                if key in target:
                    target[key] = min(target[key], first)
        return [
            TopicPartition(t, p, o)
            for (t, p), o in target.items()
            if self.committed.get((t, p)) != o
        ]

    def _commit(self, offsets: list[TopicPartition]) -> None:
        try:
            self.consumer.commit(offsets=offsets, asynchronous=False)
            self.result.commits += 1
        except KafkaException as exc:
            # Typically a rebalance took the partition; the next owner re-reads into idempotent sinks.
            self.result.commit_failures += 1
            log.warning("commit failed", extra={"error": str(exc.args[0])})
            return
        self.committed.update({(tp.topic, tp.partition): tp.offset for tp in offsets})
        for tp in offsets:
            try:
                _, high = self.consumer.get_watermark_offsets(tp, cached=True)
            except KafkaException:
                continue
            if high >= 0:
                lag = max(high - tp.offset, 0)
                self.result.lag[f"{tp.topic}:{tp.partition}"] = lag
                if self.metrics is not None:
                    self.metrics.set_lag(tp.topic, tp.partition, lag)

    def due(self) -> bool:
        """The batch is full or old enough, or it is time to let the sinks roll what is due."""
        return len(self.pending) >= self.batch_size or (
            time.monotonic() - self.batch_started >= self.batch_timeout_s
            and bool(self.pending or self.offsets or self._sinks_hold())
        )

    def at_end(self) -> bool:
        """Every assigned partition is read up to the end it had when assigned."""
        if not self.stop.at_end or not self.ends:
            return False
        return all(self.positions.get(k, 0) >= end for k, end in self.ends.items())

    def fetch_size(self) -> int:
        """How many messages the next consume() may return."""
        room = max(self.batch_size - len(self.pending), 1)
        if self.stop.max_messages is not None:
            room = min(room, max(self.stop.max_messages - self.result.records_in, 1))
        return min(room, MAX_FETCH)

    def should_stop(self, idle_since: float) -> bool:
        """A stop was asked for, a limit was reached, or the input is exhausted.

        Idle time counts from the first assignment on: waiting to join the group (a dead member's
        session to expire, say) is not the input running dry; having nothing left after a
        rebalance is.
        """
        if self.stopping.is_set():
            return True
        if self.stop.max_messages is not None and self.result.records_in >= self.stop.max_messages:
            return True
        if self.at_end():
            return True
        idle = self.stop.idle_timeout_s
        return idle is not None and self.ever_assigned and time.monotonic() - idle_since >= idle

    def run(self) -> ConsumeResult:
        """Loop until told to stop, then finish the batch, commit and close."""
        idle_since = time.monotonic()
        try:
            while not self.should_stop(idle_since):
                msgs = self.consumer.consume(self.fetch_size(), CONSUME_TIMEOUT_S)
                if msgs or not self.ever_assigned:
                    idle_since = time.monotonic()
                if msgs:
                    self.handle(msgs)
                if self.due():
                    self.flush()
            self.flush(release=None)
        finally:
            self.close()
        return self.result

    def close(self) -> None:
        """Leave the group (its revocation flushes nothing more: pending is empty) and close sinks."""
        self.closing = True
        try:
            self.consumer.close()
        finally:
            for sink in self.sinks:
                sink.close()


def subscribe(batch: BatchConsumer, topics: list[str]) -> None:
    """Join the group with our rebalance callbacks."""
    batch.consumer.subscribe(
        topics, on_assign=batch.on_assign, on_revoke=batch.on_revoke, on_lost=batch.on_lost
    )


def assign_from(
    batch: BatchConsumer, topic: str, partitions: list[int], starts: dict[int, int]
) -> None:
    """Manual assignment at explicit offsets (replay); no group membership, no commits."""
    tps = [TopicPartition(topic, p, starts.get(p, OFFSET_INVALID)) for p in partitions]
    for sink in batch.sinks:
        sink.assigned(topic, partitions)
    if batch.stop.at_end:
        for tp in tps:
            low, high = batch.consumer.get_watermark_offsets(tp, timeout=10)
            batch.ends[(topic, tp.partition)] = high
            batch.positions[(topic, tp.partition)] = max(tp.offset, low)
    batch.consumer.assign(tps)
    batch.assignment = {(topic, p) for p in partitions}
    batch.ever_assigned = True
