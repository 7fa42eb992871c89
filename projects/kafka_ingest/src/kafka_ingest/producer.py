"""Validated, keyed, idempotent production with delivery reports and backpressure."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from confluent_kafka import KafkaError, Message, Producer

from de_common.errors import JobError
from kafka_ingest.backpressure import produce_with_backpressure
from kafka_ingest.clients import ensure_topic, new_producer, topic_partitions
from kafka_ingest.config import KafkaIngestSettings
from kafka_ingest.dlq import DeadLetters
from kafka_ingest.events import InvalidEvent, check, check_raw
from kafka_ingest.sources import SourceItem
from kafka_ingest.telemetry import IngestMetrics

log = logging.getLogger(__name__)

# Serve delivery reports every this many messages: frequent enough to keep memory flat.
POLL_EVERY = 1_000
FLUSH_TIMEOUT_S = 300.0


@dataclass
class DeliveryReport:
    """The messages the broker refused, from the delivery callbacks.

    Our own producer asks librdkafka for reports on failures only (`delivery.report.only.error`):
    a Python callback per acknowledged message cost 10-20 % of the throughput. Every message
    that fails gets its report, so once flush() has nothing left, delivered = queued - failed.
    """

    failed: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    def on_delivery(self, err: KafkaError | None, _msg: Message) -> None:
        """librdkafka calls this from poll() or flush(): for failures, or for every message."""
        if err is not None:
            self.failed += 1
            self.errors[err.str()] = self.errors.get(err.str(), 0) + 1


@dataclass
class ProduceResult:
    """The balance of one produce run."""

    records_in: int = 0
    produced: int = 0
    failed: int = 0
    rejected: int = 0
    backpressure_waits: int = 0
    errors: dict[str, int] = field(default_factory=dict)


def produce(
    settings: KafkaIngestSettings,
    items: Iterable[SourceItem],
    metrics: IngestMetrics | None = None,
    *,
    producer: Producer | None = None,
) -> ProduceResult:
    """Validate each item; good ones go to the topic keyed by `key`, bad ones to the DLQ."""
    topic = settings.topic
    report = DeliveryReport()
    # Set once in the config, the report costs no per-produce() argument; a caller's producer
    # gets it per message instead.
    client = producer or new_producer(
        settings, {"on_delivery": report.on_delivery, "delivery.report.only.error": True}
    )
    topic_partitions(client, topic, settings)
    ensure_topic(settings, settings.dlq(), client=client)
    dlq = DeadLetters(client, settings.dlq())
    result = ProduceResult()
    on_delivery = report.on_delivery if producer is not None else None
    send = client.produce
    count = rejected = waits = 0
    # The hot loop: locals only, produce() called directly, the BufferError path out of line.
    for item in items:
        count += 1
        error = item.error
        if error is None:
            try:
                key = check_raw(item.raw) if item.event is None else check(item.event)
            except InvalidEvent as exc:
                error = str(exc)
        if error is not None:
            dlq.send(item.raw, None, error, origin=item.origin)
            rejected += 1
            continue
        try:
            if on_delivery is None:
                send(topic, item.raw, key)
            else:
                send(topic, item.raw, key, on_delivery=on_delivery)
        except BufferError:
            extra = {} if on_delivery is None else {"on_delivery": on_delivery}
            waits += produce_with_backpressure(client, topic, value=item.raw, key=key, **extra)
        if count % POLL_EVERY == 0:
            client.poll(0)
    result.records_in, result.rejected, result.backpressure_waits = count, rejected, waits
    started = time.monotonic()
    remaining = client.flush(FLUSH_TIMEOUT_S)
    log.info("flushed", extra={"seconds": round(time.monotonic() - started, 3)})
    result.failed = report.failed + remaining
    result.produced = count - rejected - result.failed
    result.errors = report.errors
    if dlq.failed:
        raise JobError(f"DLQ {dlq.topic!r} refused {len(dlq.failed)} message(s): {dlq.failed[0]}")
    if metrics is not None:
        metrics.count("produced", result.produced)
        metrics.count("failed", result.failed)
        metrics.count("dlq", result.rejected)
    return result
