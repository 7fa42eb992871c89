"""Wires settings into clients, sinks and a BatchConsumer for the consume and replay commands."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

from confluent_kafka import Consumer, KafkaException, Producer

from de_common.errors import UserError
from kafka_ingest.async_stage import AsyncPipeline, latency_enricher
from kafka_ingest.clients import consumer_config, ensure_topic, producer_config, topic_partitions
from kafka_ingest.config import KafkaIngestSettings
from kafka_ingest.consumer import BatchConsumer, ConsumeResult, StopWhen, assign_from, subscribe
from kafka_ingest.dlq import DeadLetters
from kafka_ingest.sinks import Sink
from kafka_ingest.sinks.parquet_files import ParquetSink
from kafka_ingest.telemetry import IngestMetrics


def build_sinks(settings: KafkaIngestSettings) -> list[Sink]:
    """The configured sinks, in order; the first one's counts are the run's counts."""
    sinks: list[Sink] = []
    for name in dict.fromkeys(settings.sink):
        if name == "parquet":
            sinks.append(ParquetSink(settings.output_dir))
        else:
            if settings.postgres_url is None:
                raise UserError("sink postgres needs KAFKA_INGEST_POSTGRES_URL (or --postgres-url)")
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
    try:
        consumer = Consumer(consumer_config(settings, group_id))
        dlq_producer = Producer(producer_config(settings))
    except KafkaException as exc:
        raise UserError(f"invalid Kafka client settings: {exc.args[0]}") from None
    partitions = topic_partitions(consumer, settings.topic, settings)
    ensure_topic(settings, settings.dlq())
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
    with stop_on_signals(batch):
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
    starts_for: Callable[[Consumer, str, list[int]], dict[int, int]],
    idle_timeout_s: float,
) -> ConsumeResult:
    """Re-read every partition from the given starts to its current end, into the sinks."""
    stop = StopWhen(idle_timeout_s=idle_timeout_s, at_end=True)
    batch, partitions = build_consumer(settings, metrics, stop, commit=False)
    starts = starts_for(batch.consumer, settings.topic, partitions)
    assign_from(batch, settings.topic, partitions, starts)
    with stop_on_signals(batch):
        return batch.run()
