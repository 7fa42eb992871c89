"""Exactly-once topic -> topic: aborted or abandoned transactions stay invisible to read_committed
readers, whether the transform aborts in-process or is killed mid-transaction and rerun."""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from confluent_kafka import KafkaError, KafkaException, Producer
from kafka_ingest.clients import new_consumer, transactional_config
from kafka_ingest.config import KafkaIngestSettings
from kafka_ingest.producer import produce
from kafka_ingest.sources import generate
from kafka_ingest.transactional import TransactionalPipe

from de_services.testing import fault_env

from .conftest import cli, produce_raw, read_topic, run_cli, topic_env, valid_events

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


def test_transform_killed_mid_transaction_then_rerun_is_exactly_once(
    kafka_bootstrap: str, kafka_topic: Callable[..., str], tmp_path: Path
) -> None:
    source, target = kafka_topic(partitions=2), kafka_topic(partitions=2)
    dlq = kafka_topic(partitions=1, prefix="dlq")
    env = topic_env(kafka_bootstrap, source, dlq)
    run_cli(["produce", "--generate", "1500", "--invalid-every", "75"], env, tmp_path)
    # Corrupt-on-the-wire poison the producer would refuse, so the transform's DLQ path runs.
    produce_raw(kafka_bootstrap, source, [(b"k", b"{oops")])
    args = ["transform", "--output-topic", target, "--transactional-id", f"tx-{source}"]
    args += ["--batch-size", "300", "--idle-timeout", "5"]
    # SIGKILL in the second transaction, once its records are on the broker, before its commit.
    crashed = cli(args, env | fault_env("transform.after_produce", nth=2), tmp_path)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr[-2000:]
    assert crashed.stdout == ""
    first = len(read_topic(kafka_bootstrap, target))
    written = read_topic(kafka_bootstrap, target, isolation="read_uncommitted")
    # The first transaction committed; the second one's records are in the log, uncommitted.
    assert 0 < first < len(written)
    summary = run_cli(args, env, tmp_path)
    # The rerun fenced the dead transaction and resumed after the committed one: 1480 valid events
    # reached the topic (the producer diverted 20), plus one wire poison, 1481 in all.
    assert summary["aborted"] == 0 and summary["transactions"] >= 1
    counts = (summary["records_in"], summary["records_out"], summary["records_rejected"])
    assert counts == (1481 - first, 1480 - first, 1)
    committed = read_topic(kafka_bootstrap, target)
    ids = [orjson.loads(m.value())["event_id"] for m in committed]
    assert sorted(ids) == sorted(valid_events(generate(1500, invalid_every=75)))
    assert all("hour" in orjson.loads(m.value())["payload"] for m in committed)
    # The killed attempt's records are in the log, visible only to read_uncommitted.
    raw = read_topic(kafka_bootstrap, target, isolation="read_uncommitted")
    assert len(raw) > len(committed)
    # The DLQ holds the producer's 20 rejects and, exactly once, the transform's poison.
    dead = read_topic(kafka_bootstrap, dlq)
    from_transform = [m for m in dead if dict(m.headers() or []).get("dlq.source.topic")]
    assert len(dead) == 21
    assert [m.value() for m in from_transform] == [b"{oops"]


class FailingOnce(Producer):
    """A transactional producer whose first commit fails with an abortable error."""

    failed = False

    def commit_transaction(self, *args: Any) -> None:
        if not FailingOnce.failed:
            FailingOnce.failed = True
            raise KafkaException(KafkaError(KafkaError._TIMED_OUT, "commit timed out (test)"))
        super().commit_transaction(*args)


def test_an_aborted_transaction_is_rewound_and_redone_in_the_same_run(
    kafka_bootstrap: str, kafka_topic: Callable[..., str]
) -> None:
    source, target = kafka_topic(partitions=2), kafka_topic(partitions=2)
    settings = KafkaIngestSettings(
        bootstrap=kafka_bootstrap, topic=source, dlq_topic=kafka_topic(prefix="dlq")
    )
    produce(settings, generate(600))
    producer = FailingOnce(transactional_config(settings, f"tx-{source}"))
    consumer = new_consumer(settings, f"g-{source}")
    pipe = TransactionalPipe(consumer, producer, target, settings.dlq(), batch_size=200)
    consumer.subscribe([source])
    result = pipe.run(idle_timeout_s=5)
    assert result.aborted == 1
    assert (result.records_in, result.produced, result.dlq) == (600, 600, 0)
    committed = read_topic(kafka_bootstrap, target)
    ids = sorted(orjson.loads(m.value())["event_id"] for m in committed)
    assert ids == sorted(valid_events(generate(600)))
    # The aborted attempt's records are in the log, visible only to read_uncommitted.
    raw = read_topic(kafka_bootstrap, target, isolation="read_uncommitted")
    assert len(raw) > len(committed)
