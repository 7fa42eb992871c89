"""Exactly-once topic -> topic: aborted transactions stay invisible to read_committed readers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from confluent_kafka import Producer
from kafka_ingest.sources import generate

from .conftest import read_topic, run_cli, topic_env, valid_events

pytestmark = pytest.mark.integration


def test_aborted_transaction_is_invisible_to_read_committed(
    kafka_bootstrap: str, kafka_topic: Callable[..., str]
) -> None:
    topic = kafka_topic(partitions=1)
    producer = Producer({"bootstrap.servers": kafka_bootstrap, "transactional.id": f"tx-{topic}"})
    producer.init_transactions(30)
    producer.begin_transaction()
    for i in range(10):
        producer.produce(topic, value=f"aborted-{i}".encode())
    producer.flush(30)
    producer.abort_transaction(30)
    producer.begin_transaction()
    for i in range(5):
        producer.produce(topic, value=f"committed-{i}".encode())
    producer.commit_transaction(30)
    committed = [m.value() for m in read_topic(kafka_bootstrap, topic)]
    everything = [
        m.value() for m in read_topic(kafka_bootstrap, topic, isolation="read_uncommitted")
    ]
    assert committed == [f"committed-{i}".encode() for i in range(5)]
    assert len(everything) == 15


def test_transform_is_exactly_once_across_an_aborted_transaction(
    kafka_bootstrap: str, kafka_topic: Callable[..., str], tmp_path: Path
) -> None:
    source, target = kafka_topic(partitions=2), kafka_topic(partitions=2)
    dlq = kafka_topic(partitions=1, prefix="dlq")
    env = topic_env(kafka_bootstrap, source, dlq)
    run_cli(["produce", "--generate", "1500", "--invalid-every", "75"], env, tmp_path)
    # Corrupt-on-the-wire poison the producer would refuse, so the transform's DLQ path runs.
    from .conftest import produce_raw

    produce_raw(kafka_bootstrap, source, [(b"k", b"{oops")])
    summary = run_cli(
        [
            "transform",
            "--output-topic",
            target,
            "--transactional-id",
            f"tx-{source}",
            "--fail-after",
            "300",
            "--idle-timeout",
            "5",
        ],
        env,
        tmp_path,
    )
    assert summary["aborted"] == 1
    # 1480 valid events reached the topic (the producer diverted 20), plus one wire poison.
    counts = (summary["records_in"], summary["records_out"], summary["records_rejected"])
    assert counts == (1481, 1480, 1)
    committed = read_topic(kafka_bootstrap, target)
    ids = [orjson.loads(m.value())["event_id"] for m in committed]
    assert sorted(ids) == sorted(valid_events(generate(1500, invalid_every=75)))
    assert all("hour" in orjson.loads(m.value())["payload"] for m in committed)
    # The aborted attempt's records are in the log, visible only to read_uncommitted.
    raw = read_topic(kafka_bootstrap, target, isolation="read_uncommitted")
    assert len(raw) > len(committed)
    # The DLQ holds the producer's 20 rejects and, exactly once, the transform's poison.
    dead = read_topic(kafka_bootstrap, dlq)
    from_transform = [m for m in dead if dict(m.headers() or []).get("dlq.source.topic")]
    assert len(dead) == 21
    assert [m.value() for m in from_transform] == [b"{oops"]
