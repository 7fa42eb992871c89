"""The showcase run: a fresh topic, seeded events with poison among them, Parquet out, a replay."""

from __future__ import annotations

import contextlib
import time

from confluent_kafka import Producer

from de_common.cli import Summary
from kafka_ingest.clients import admin, create_topic, producer_config
from kafka_ingest.config import KafkaIngestSettings
from kafka_ingest.consumer import StopWhen
from kafka_ingest.producer import produce
from kafka_ingest.replay import offsets_from_offset
from kafka_ingest.runner import run_consume, run_replay
from kafka_ingest.sinks.parquet_files import read_all
from kafka_ingest.sources import generate
from kafka_ingest.telemetry import IngestMetrics

PARTITIONS = 3
POISON = (b"\x00\x01 binary", b'{"event_id": "no-other-fields"}', b"{truncated")


def run_demo(
    settings: KafkaIngestSettings, run_id: str, events: int, metrics: IngestMetrics
) -> Summary:
    """Produce `events` (every 50th invalid), consume them to Parquet, replay all: no duplicates."""
    started = time.monotonic()
    topic = f"kafka-ingest-demo-{run_id}"
    settings = settings.model_copy(
        update={
            "topic": topic,
            "dlq_topic": f"{topic}.dlq",
            "group_id": f"demo-{run_id}",
            "sink": ["parquet"],
            "output_dir": settings.output_dir / "demo",
        }
    )
    create_topic(settings, topic, PARTITIONS, 1)
    create_topic(settings, settings.dlq(), 1, 1)
    try:
        produced = produce(settings, generate(events, invalid_every=50), metrics)
        # A foreign producer's garbage reaches the topic anyway: the consumer must DLQ it.
        foreign = Producer(producer_config(settings))
        for value in POISON:
            foreign.produce(topic, key=b"foreign", value=value)
        foreign.flush(30)
        consumed = run_consume(settings, metrics, StopWhen(idle_timeout_s=10, at_end=True))
        replayed = run_replay(
            settings, metrics, lambda c, t, ps: offsets_from_offset(c, t, ps, 0), 3.0
        )
    finally:
        client = admin(settings)
        for future in client.delete_topics([topic, settings.dlq()], operation_timeout=30).values():
            with contextlib.suppress(Exception):
                future.result(timeout=30)
    rows = read_all(settings.output_dir, topic).num_rows
    return Summary(
        records_in=produced.records_in + len(POISON),
        records_out=consumed.written,
        records_rejected=produced.rejected + consumed.dlq,
        duration_s=round(time.monotonic() - started, 3),
        extra={
            "topic": topic,
            "produced": produced.produced,
            "rejected_at_producer": produced.rejected,
            "consumed": consumed.records_in,
            "written": consumed.written,
            "dlq_at_consumer": consumed.dlq,
            "replayed": replayed.records_in,
            "replay_duplicates_skipped": replayed.duplicates,
            "replay_written": replayed.written,
            "parquet_rows": rows,
            "parquet_dir": str(settings.output_dir / topic),
            "exactly_once": rows == produced.produced and replayed.written == 0,
            "dlq_topic": settings.dlq(),
        },
    )
