"""Wires settings into clients, sinks and the consuming loops of consume, replay and transform."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from de_common.errors import UserError
from kafka_ingest.async_stage import AsyncPipeline, latency_enricher
from kafka_ingest.clients import (
    ensure_topic,
    kafka_errors,
    new_consumer,
    new_producer,
    topic_partitions,
    transactional_producer,
)
from kafka_ingest.config import KafkaIngestSettings
from kafka_ingest.consumer import BatchConsumer, ConsumeResult, StopWhen, assign_from, subscribe
from kafka_ingest.dlq import DeadLetters
from kafka_ingest.replay import ReplayStart
from kafka_ingest.sinks import Sink
from kafka_ingest.sinks.hour_buffers import RollPolicy
from kafka_ingest.sinks.parquet_files import ParquetSink
from kafka_ingest.telemetry import IngestMetrics
from kafka_ingest.transactional import TransactionalPipe, TransformResult

# A transaction holds at most this many input records, whatever the consumer batch size.
MAX_TRANSACTION_RECORDS = 5_000


def roll_policy(settings: KafkaIngestSettings) -> RollPolicy:
    """When the Parquet sink turns a partition-hour buffer into a file."""
    return RollPolicy(
        records=settings.roll_records,
        bytes=settings.roll_bytes,
        age_s=settings.roll_age_s,
        max_buffered_bytes=settings.buffer_max_bytes,
    )


def build_sinks(settings: KafkaIngestSettings) -> list[Sink]:
    """The configured sinks, in order; the first one's counts are the run's counts."""
    sinks: list[Sink] = []
    for name in dict.fromkeys(settings.sink):
        if name == "parquet":
            sinks.append(ParquetSink(settings.output_dir, roll_policy(settings)))
        else:
            if settings.postgres_url is None:
                raise UserError(
                    "--sink postgres needs KAFKA_INGEST_POSTGRES_URL (a secret: set it in the "
                    "environment, .env or the --config file; it is never a flag)"
                )
            from kafka_ingest.sinks.postgres_table import PostgresSink

            sinks.append(
                PostgresSink(settings.postgres_url.get_secret_value(), settings.postgres_table)
            )
    return sinks


def build_consumer(
    settings: KafkaIngestSettings,
    metrics: IngestMetrics | None,
    stop: StopWhen,
    *,
    commit: bool = True,
    group_id: str | None = None,
) -> tuple[BatchConsumer, list[int]]:
    """Check the broker and topic, create the DLQ topic if needed, build sinks and the consumer."""
    consumer = new_consumer(settings, group_id)
    dlq_producer = new_producer(settings)
    partitions = topic_partitions(consumer, settings.topic, settings)
    ensure_topic(settings, settings.dlq(), client=consumer)
    batch = BatchConsumer(
        consumer,
        build_sinks(settings),
        DeadLetters(dlq_producer, settings.dlq()),
        batch_size=settings.batch_size,
        batch_timeout_s=settings.batch_timeout_s,
        metrics=metrics,
        stop=stop,
        commit=commit,
    )
    return batch, partitions


@contextmanager
def stop_on_signals(batch: BatchConsumer) -> Iterator[None]:
    """SIGTERM/SIGINT ask the loop to finish its batch, commit and close, instead of dying."""

    def handler(signum: int, _frame: FrameType | None) -> None:
        batch.stopping.set()

    previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def run_consume(
    settings: KafkaIngestSettings,
    metrics: IngestMetrics | None,
    stop: StopWhen,
    *,
    use_async: bool = False,
) -> ConsumeResult:
    """Join the group and consume until stopped."""
    batch, _ = build_consumer(settings, metrics, stop)
    subscribe(batch, [settings.topic])
    with stop_on_signals(batch), kafka_errors(settings, "consuming"):
        if use_async:
            pipeline = AsyncPipeline(
                batch,
                latency_enricher(settings.enrich_latency_ms / 1000),
                concurrency=settings.enrich_concurrency,
                queue_size=settings.enrich_queue_size,
            )
            return asyncio.run(pipeline.run())
        return batch.run()


def run_replay(
    settings: KafkaIngestSettings,
    metrics: IngestMetrics | None,
    start: ReplayStart,
    idle_timeout_s: float,
) -> ConsumeResult:
    """Re-read every partition from the given start to its current end, into the sinks."""
    stop = StopWhen(idle_timeout_s=idle_timeout_s, at_end=True)
    batch, partitions = build_consumer(settings, metrics, stop, commit=False)
    with kafka_errors(settings, "finding the replay's start offsets"):
        starts = start.starts(batch.consumer, settings.topic, partitions)
        assign_from(batch, settings.topic, partitions, starts)
    with stop_on_signals(batch), kafka_errors(settings, "replaying"):
        return batch.run()


def run_transform(
    settings: KafkaIngestSettings,
    metrics: IngestMetrics | None,
    output_topic: str,
    transactional_id: str,
    idle_timeout_s: float | None,
) -> TransformResult:
    """Exactly-once topic -> topic until idle for idle_timeout_s (forever if None)."""
    consumer = new_consumer(settings)
    topic_partitions(consumer, settings.topic, settings)
    topic_partitions(consumer, output_topic, settings)
    ensure_topic(settings, settings.dlq(), client=consumer)
    with kafka_errors(settings, "transform"):
        pipe = TransactionalPipe(
            consumer,
            transactional_producer(settings, transactional_id),
            output_topic,
            settings.dlq(),
            batch_size=min(settings.batch_size, MAX_TRANSACTION_RECORDS),
        )
        consumer.subscribe([settings.topic])
        result = pipe.run(idle_timeout_s)
    if metrics is not None:
        metrics.count("produced", result.produced)
        metrics.count("dlq", result.dlq)
    return result
