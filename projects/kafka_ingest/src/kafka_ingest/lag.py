"""Consumer lag: the group's committed offset against each partition's high watermark."""

from __future__ import annotations

from dataclasses import dataclass

from confluent_kafka import Consumer, KafkaException, TopicPartition

from de_common.errors import ServiceUnavailable
from kafka_ingest.clients import consumer_config, topic_partitions
from kafka_ingest.config import KafkaIngestSettings
from kafka_ingest.telemetry import IngestMetrics


@dataclass
class PartitionLag:
    """One partition's position and distance to the end."""

    partition: int
    committed: int | None
    low: int
    high: int
    lag: int


def group_lag(
    settings: KafkaIngestSettings, group_id: str, metrics: IngestMetrics | None = None
) -> list[PartitionLag]:
    """Lag per partition; a partition without a commit counts from its low watermark."""
    consumer = Consumer(consumer_config(settings, group_id))
    try:
        partitions = topic_partitions(consumer, settings.topic, settings)
        tps = [TopicPartition(settings.topic, p) for p in partitions]
        try:
            committed = consumer.committed(tps, timeout=10)
        except KafkaException as exc:
            raise ServiceUnavailable("kafka", settings.bootstrap, str(exc.args[0])) from None
        rows: list[PartitionLag] = []
        for tp in committed:
            low, high = consumer.get_watermark_offsets(tp, timeout=10)
            position = tp.offset if tp.offset >= 0 else None
            lag = high - (position if position is not None else low)
            rows.append(PartitionLag(tp.partition, position, low, high, max(lag, 0)))
            if metrics is not None:
                metrics.set_lag(settings.topic, tp.partition, max(lag, 0))
        return rows
    finally:
        consumer.close()
