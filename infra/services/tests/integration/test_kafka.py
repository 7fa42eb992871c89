"""Kafka through the launcher: up -> produce and consume with confluent-kafka -> down leaves nothing."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable

import pytest

from de_services import lifecycle, registry

pytestmark = pytest.mark.integration

Cli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def services() -> list[str]:
    return ["kafka"]


@pytest.fixture(scope="module")
def kafka(started: dict[str, str]) -> str:
    return started["kafka"]


def test_up_reports_loopback_bootstrap_and_ready(kafka: str, ports: dict[str, int]) -> None:
    assert kafka == f"127.0.0.1:{ports['DE_KAFKA_PORT']}"
    st = lifecycle.status(registry.get("kafka"))
    assert st.running and st.ready and st.pids


def test_produce_and_consume_round_trip(kafka: str) -> None:
    from confluent_kafka import Consumer, Producer
    from confluent_kafka.admin import AdminClient, NewTopic

    topic = f"t_{uuid.uuid4().hex[:10]}"
    admin = AdminClient({"bootstrap.servers": kafka})
    admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)])[topic].result(30)

    producer = Producer({"bootstrap.servers": kafka, "enable.idempotence": True})
    sent = [f"msg-{i}".encode() for i in range(100)]
    for i, value in enumerate(sent):
        producer.produce(topic, key=str(i % 7).encode(), value=value)
    assert producer.flush(30) == 0

    consumer = Consumer(
        {
            "bootstrap.servers": kafka,
            "group.id": f"g_{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe([topic])
    got: list[bytes] = []
    try:
        for _ in range(300):
            msg = consumer.poll(0.5)
            if msg is None:
                if len(got) >= len(sent):
                    break
                continue
            assert msg.error() is None, msg.error()
            got.append(msg.value())
    finally:
        consumer.close()
    assert sorted(got) == sorted(sent)


def test_auto_create_is_off(kafka: str) -> None:
    from confluent_kafka import Producer
    from confluent_kafka.admin import AdminClient

    topic = f"never_{uuid.uuid4().hex[:8]}"
    producer = Producer({"bootstrap.servers": kafka, "message.timeout.ms": 3000})
    errors: list[object] = []
    producer.produce(topic, b"x", on_delivery=lambda err, _msg: errors.append(err))
    producer.flush(10)
    assert errors and errors[0] is not None
    assert topic not in AdminClient({"bootstrap.servers": kafka}).list_topics(timeout=10).topics


def test_kafka_tool_lists_topics(kafka: str, cli: Cli) -> None:
    from confluent_kafka.admin import AdminClient, NewTopic

    topic = f"listed_{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": kafka})
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(30)
    proc = cli("kafka-tool", "kafka-topics", "--bootstrap-server", kafka, "--list")
    assert proc.returncode == 0, proc.stderr
    assert topic in proc.stdout.split()


def test_kafka_tool_rejects_unknown_tool(isolated: dict[str, str], cli: Cli) -> None:
    proc = cli("kafka-tool", "kafka-nonsense")
    assert proc.returncode == 2
    assert "kafka-topics" in proc.stderr


def test_up_reuses_and_down_leaves_no_process_or_port(
    kafka: str, down_leaves_nothing: Callable[..., list[int]]
) -> None:
    service = registry.get("kafka")
    before = lifecycle.status(service).pids
    assert lifecycle.up(service) == kafka
    assert lifecycle.status(service).pids == before  # reused, not restarted

    down_leaves_nothing()
    # Data survives a restart (the storage is formatted once).
    lifecycle.up(service)
    assert lifecycle.status(service).ready
