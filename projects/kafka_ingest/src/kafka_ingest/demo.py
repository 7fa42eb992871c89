"""The showcase run: a fresh topic, seeded events with poison among them, Parquet out, a replay."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from de_common.config import with_overrides
from kafka_ingest.clients import create_topic, delete_topics, kafka_errors, new_producer
from kafka_ingest.config import KafkaIngestSettings
from kafka_ingest.consumer import ConsumeResult, StopWhen
from kafka_ingest.producer import ProduceResult, produce
from kafka_ingest.replay import ReplayStart
from kafka_ingest.runner import run_consume, run_replay
from kafka_ingest.sinks.parquet_files import read_all
from kafka_ingest.sources import generate
from kafka_ingest.telemetry import IngestMetrics

PARTITIONS = 3
POISON = (b"\x00\x01 binary", b'{"event_id": "no-other-fields"}', b"{truncated")


@dataclass
class DemoResult:
    """What each stage of the demo did, and what the Parquet sink holds at the end."""

    settings: KafkaIngestSettings
    produced: ProduceResult
    consumed: ConsumeResult
    replayed: ConsumeResult
    parquet_rows: int

    @property
    def parquet_dir(self) -> Path:
        return self.settings.output_dir / self.settings.topic


def run_demo(
    settings: KafkaIngestSettings, run_id: str, events: int, metrics: IngestMetrics
) -> DemoResult:
    """Produce `events` (every 50th invalid) and some foreign poison, consume them to Parquet,
    replay everything: the replay must store nothing twice."""
    topic = f"kafka-ingest-demo-{run_id}"
    settings = with_overrides(
        settings,
        topic=topic,
        dlq_topic=f"{topic}.dlq",
        group_id=f"demo-{run_id}",
        sink=["parquet"],
        output_dir=settings.output_dir / "demo",
    )
    create_topic(settings, topic, PARTITIONS, 1)
    create_topic(settings, settings.dlq(), 1, 1)
    try:
        produced = produce(settings, generate(events, invalid_every=50), metrics)
        # A foreign producer's garbage reaches the topic anyway: the consumer must DLQ it.
        foreign = new_producer(settings)
        with kafka_errors(settings, "producing the foreign poison"):
            for value in POISON:
                foreign.produce(topic, key=b"foreign", value=value)
        foreign.flush(30)
        consumed = run_consume(settings, metrics, StopWhen(idle_timeout_s=10, at_end=True))
        replayed = run_replay(settings, metrics, ReplayStart(offset=0), 3.0)
    finally:
        delete_topics(settings, [topic, settings.dlq()])
    rows = read_all(settings.output_dir, topic).num_rows
    return DemoResult(settings, produced, consumed, replayed, rows)
