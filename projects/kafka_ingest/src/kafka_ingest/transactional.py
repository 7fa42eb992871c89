"""Exactly-once topic -> topic: consume, transform, produce and commit offsets in one transaction."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from confluent_kafka import Consumer, KafkaException, Message, Producer

from de_common.errors import JobError
from de_common.faults import fault_point
from kafka_ingest.backpressure import produce_with_backpressure
from kafka_ingest.dlq import H_ERROR, H_OFFSET, H_PARTITION, H_TIME, H_TOPIC
from kafka_ingest.events import InvalidEvent, parse_value

log = logging.getLogger(__name__)

TXN_TIMEOUT_S = 30.0


@dataclass
class TransformResult:
    """The balance of one transform run."""

    records_in: int = 0
    produced: int = 0
    dlq: int = 0
    transactions: int = 0
    aborted: int = 0


def default_transform(event: dict[str, Any]) -> dict[str, Any]:
    """Normalise an event for downstream readers: UTC time, hour bucket, processing stamp."""
    ts: datetime = event["ts"]
    return {
        **event,
        "ts": ts.isoformat().replace("+00:00", "Z"),
        "payload": {**event["payload"], "hour": ts.strftime("%Y-%m-%dT%H")},
    }


class TransactionalPipe:
    """Read committed input, write output and DLQ records and the input offsets atomically."""

    def __init__(
        self,
        consumer: Consumer,
        producer: Producer,
        output_topic: str,
        dlq_topic: str,
        *,
        batch_size: int = 1_000,
        transform: Callable[[dict[str, Any]], dict[str, Any]] = default_transform,
    ) -> None:
        self.consumer = consumer
        self.producer = producer
        self.output = output_topic
        self.dlq = dlq_topic
        self.batch_size = batch_size
        self.transform = transform
        self.result = TransformResult()
        producer.init_transactions(TXN_TIMEOUT_S)

    def _emit(self, msg: Message, counts: TransformResult) -> None:
        try:
            event = self.transform(parse_value(msg.value()))
        except InvalidEvent as exc:
            headers = [
                (H_ERROR, str(exc)),
                (H_TOPIC, msg.topic()),
                (H_PARTITION, str(msg.partition())),
                (H_OFFSET, str(msg.offset())),
                (H_TIME, datetime.now(UTC).isoformat()),
            ]
            produce_with_backpressure(
                self.producer, self.dlq, value=msg.value(), key=msg.key(), headers=headers
            )
            counts.dlq += 1
            return
        produce_with_backpressure(
            self.producer, self.output, value=orjson.dumps(event), key=event["key"]
        )
        counts.produced += 1

    def process(self, msgs: list[Message]) -> bool:
        """One transaction: every output record and the next input offsets, or nothing."""
        self.producer.begin_transaction()
        batch = TransformResult()
        try:
            for msg in msgs:
                err = msg.error()
                if err is not None:
                    if err.fatal():
                        raise JobError(f"kafka consumer failed: {err.str()}")
                    continue
                self._emit(msg, batch)
                batch.records_in += 1
            # The batch's records are on the broker before its offsets join the transaction
            # (commit would flush them anyway): from here a crash leaves written, uncommitted
            # records that only the next run's init_transactions() aborts. Crash tests stop here.
            self.producer.flush(TXN_TIMEOUT_S)
            fault_point("transform.after_produce")
            positions = self.consumer.position(self.consumer.assignment())
            self.producer.send_offsets_to_transaction(
                positions, self.consumer.consumer_group_metadata(), TXN_TIMEOUT_S
            )
            self.producer.commit_transaction(TXN_TIMEOUT_S)
        except KafkaException as exc:
            kerr = exc.args[0]
            if kerr.fatal():
                raise JobError(f"transaction failed fatally: {kerr.str()}") from None
            log.warning("aborting transaction", extra={"error": str(exc)})
            self.producer.abort_transaction(TXN_TIMEOUT_S)
            self.result.aborted += 1
            self._rewind()
            return False
        self.result.transactions += 1
        self.result.records_in += batch.records_in
        self.result.produced += batch.produced
        self.result.dlq += batch.dlq
        return True

    def _rewind(self) -> None:
        """Seek back to the last committed offsets so the aborted batch is read again."""
        committed = self.consumer.committed(self.consumer.assignment(), timeout=10)
        for tp in committed:
            if tp.offset < 0:
                low, _ = self.consumer.get_watermark_offsets(tp, timeout=10)
                tp.offset = low
            self.consumer.seek(tp)

    def run(self, idle_timeout_s: float | None = None) -> TransformResult:
        """Consume batches, one transaction each, until idle for idle_timeout_s (forever if None).

        Idle time counts once partitions are assigned: joining the group (a killed predecessor's
        session expiring first) is not the input running dry.
        """
        idle_since = time.monotonic()
        try:
            while idle_timeout_s is None or time.monotonic() - idle_since < idle_timeout_s:
                msgs = self.consumer.consume(self.batch_size, 0.5)
                if msgs or not self.consumer.assignment():
                    idle_since = time.monotonic()
                if msgs:
                    self.process(msgs)
        finally:
            self.consumer.close()
            self.producer.flush(10)
        return self.result
