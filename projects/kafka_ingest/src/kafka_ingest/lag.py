"""Consumer lag: the group's committed offset against each partition's high watermark."""

from __future__ import annotations

from dataclasses import dataclass

from confluent_kafka import TopicPartition

from kafka_ingest.clients import kafka_errors, new_consumer, topic_partitions
from kafka_ingest.config import KafkaIngestSettings


@dataclass
class PartitionLag:
    """One partition's position and distance to the end."""

    partition: int
    committed: int | None
    low: int
    high: int
    lag: int


def group_lag(settings: KafkaIngestSettings) -> list[PartitionLag]:
    """Lag of settings.group_id per partition; a partition without a commit counts from its low
    watermark."""
    consumer = new_consumer(settings)
    try:
        partitions = topic_partitions(consumer, settings.topic, settings)
        tps = [TopicPartition(settings.topic, p) for p in partitions]
        rows: list[PartitionLag] = []
        with kafka_errors(settings, "reading committed offsets"):
            for tp in consumer.committed(tps, timeout=10):
                low, high = consumer.get_watermark_offsets(tp, timeout=10)
                position = tp.offset if tp.offset >= 0 else None
                lag = high - (position if position is not None else low)
                rows.append(PartitionLag(tp.partition, position, low, high, max(lag, 0)))
        return rows
    finally:
        consumer.close()
