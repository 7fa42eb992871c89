"""`check kafka-lag` and `check parking-lot` as a scheduler runs them: one JSON object on stdout,
exit 0 at or under the threshold, exit 1 and one error line over it or when the service is away."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from promkit import wait_until

from de_services.testing import unique_name

pytestmark = pytest.mark.integration


@dataclass
class Result:
    code: int
    state: dict[str, Any]
    stderr: str


def run_check(*args: str, env: dict[str, str] | None = None) -> Result:
    proc = subprocess.run(
        [sys.executable, "-m", "monitoring", "check", *args, "--json"],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Traceback" not in proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1, proc.stdout  # one JSON object, nothing else on stdout
    return Result(proc.returncode, json.loads(lines[0]), proc.stderr)


def error_lines(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("error: ")]


def closed_port() -> int:
    """A port nothing listens on: bound, then released."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- Kafka -----------------------------------------------------------------------------------------


@pytest.fixture
def lagging_group(kafka_bootstrap: str, kafka_topic: Callable[..., str]) -> tuple[str, str]:
    """A 2-partition topic with 6 messages on each; the group committed 4 and 5: lag 2 + 1 = 3."""
    topic = kafka_topic(partitions=2)
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    for i in range(12):
        producer.produce(topic, value=f"event {i}".encode(), partition=i % 2)
    assert producer.flush(30) == 0
    group = unique_name("group", "-")
    consumer = Consumer(
        {"bootstrap.servers": kafka_bootstrap, "group.id": group, "enable.auto.commit": False}
    )
    try:
        offsets = [TopicPartition(topic, 0, 4), TopicPartition(topic, 1, 5)]
        consumer.commit(offsets=offsets, asynchronous=False)
    finally:
        consumer.close()
    return topic, group


def test_kafka_lag_at_the_threshold_is_ok_with_each_partition(
    kafka_bootstrap: str, lagging_group: tuple[str, str]
) -> None:
    topic, group = lagging_group
    env = {"MONITORING_KAFKA_BOOTSTRAP": kafka_bootstrap}  # the setting from the environment
    result = run_check("kafka-lag", "--group", group, "--topic", topic, "--max-lag", "3", env=env)
    assert result.code == 0, result.stderr
    assert result.state["status"] == "ok"
    assert "error" not in result.state
    assert (result.state["value"], result.state["threshold"]) == (3, 3)
    assert (result.state["group"], result.state["topic"]) == (group, topic)
    assert result.state["partitions"] == [
        {"topic": topic, "partition": 0, "lag": 2},
        {"topic": topic, "partition": 1, "lag": 1},
    ]


def test_kafka_lag_over_the_threshold_exits_1_with_one_line(
    kafka_bootstrap: str, lagging_group: tuple[str, str]
) -> None:
    topic, group = lagging_group
    # No --topic: every partition the group committed to.
    result = run_check(
        "kafka-lag", "--group", group, "--max-lag", "2", "--kafka-bootstrap", kafka_bootstrap
    )
    assert result.code == 1
    assert result.state["status"] == "failed"
    assert result.state["value"] == 3
    assert result.state["threshold"] == 2
    assert result.state["topic"] is None
    assert [(p["topic"], p["lag"]) for p in result.state["partitions"]] == [(topic, 2), (topic, 1)]
    assert result.state["error"] == f"kafka lag of group {group} is 3, over the threshold 2"
    assert error_lines(result) == [f"error: {result.state['error']}"]


def test_kafka_lag_of_a_group_that_never_committed_counts_from_the_topic_start(
    kafka_bootstrap: str, lagging_group: tuple[str, str]
) -> None:
    topic, _ = lagging_group
    fresh = unique_name("group", "-")
    args = ("kafka-lag", "--group", fresh, "--kafka-bootstrap", kafka_bootstrap)
    result = run_check(*args, "--topic", topic, "--max-lag", "100")
    assert result.code == 0, result.stderr
    assert result.state["value"] == 12
    # Without a topic there is nothing to measure: failed, never a silent 0.
    result = run_check(*args, "--max-lag", "100")
    assert result.code == 1
    assert result.state["value"] is None
    assert "no committed offsets" in result.state["error"]


def test_kafka_unreachable_is_one_line_and_exit_1() -> None:
    bootstrap = f"127.0.0.1:{closed_port()}"
    result = run_check(
        "kafka-lag", "--group", "any", "--max-lag", "0",
        "--kafka-bootstrap", bootstrap, "--check-timeout-s", "2",
    )  # fmt: skip
    assert result.code == 1
    assert result.state["status"] == "failed"
    assert result.state["value"] is None
    assert result.state["error"].startswith(f"kafka {bootstrap}: ")
    assert error_lines(result) == [f"error: {result.state['error']}"]


# --- RabbitMQ --------------------------------------------------------------------------------------


@dataclass
class Broker:
    management_url: str
    vhost: str
    user: str
    password: str

    def call(self, method: str, path: str, body: object = None) -> Any:
        token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        request = urllib.request.Request(
            self.management_url.rstrip("/") + path,
            data=None if body is None else json.dumps(body).encode(),
            method=method,
            headers={"Authorization": f"Basic {token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def env(self) -> dict[str, str]:
        return {
            "MONITORING_RABBITMQ_MANAGEMENT_URL": self.management_url,
            "MONITORING_RABBITMQ_VHOST": self.vhost,
            "MONITORING_RABBITMQ_USER": self.user,
            "MONITORING_RABBITMQ_PASSWORD": self.password,
        }


@pytest.fixture
def parked(rabbitmq_vhost: str, rabbitmq_management_url: str) -> tuple[Broker, str]:
    """rabbitmq_worker's parking lot, `<prefix>.parked`, holding 3 messages the broker has counted."""
    url = urllib.parse.urlsplit(rabbitmq_vhost)
    broker = Broker(
        rabbitmq_management_url,
        urllib.parse.unquote(url.path.lstrip("/")),
        urllib.parse.unquote(url.username or "guest"),
        urllib.parse.unquote(url.password or "guest"),
    )
    vhost = urllib.parse.quote(broker.vhost, safe="")
    queue = f"{unique_name('orders', '-')}.parked"
    broker.call("PUT", f"/api/queues/{vhost}/{urllib.parse.quote(queue)}", {"durable": True})
    for i in range(3):
        message = {"properties": {}, "routing_key": queue, "payload": f"task {i}",
                   "payload_encoding": "string"}  # fmt: skip
        assert broker.call("POST", f"/api/exchanges/{vhost}/amq.default/publish", message)["routed"]
    # The management API counts on its statistics interval: wait until it shows all three.
    wait_until(
        "the parking lot's count",
        lambda: broker.call("GET", f"/api/queues/{vhost}/{urllib.parse.quote(queue)}").get(
            "messages_ready"
        )
        == 3,
    )
    return broker, queue


def test_parking_lot_at_the_threshold_is_ok(parked: tuple[Broker, str]) -> None:
    broker, queue = parked
    result = run_check("parking-lot", "--queue", queue, "--max", "3", env=broker.env())
    assert result.code == 0, result.stderr
    assert result.state["status"] == "ok"
    assert "error" not in result.state
    assert (result.state["value"], result.state["threshold"]) == (3, 3)
    assert result.state["queue"] == queue
    assert result.state["vhost"] == broker.vhost
    assert result.state["role"] == "parking_lot"
    assert (result.state["messages_ready"], result.state["messages_unacked"]) == (3, 0)
    assert result.state["consumers"] == 0
    assert broker.password not in json.dumps(result.state) + result.stderr


def test_parking_lot_over_the_threshold_exits_1_with_one_line(parked: tuple[Broker, str]) -> None:
    broker, queue = parked
    result = run_check("parking-lot", "--queue", queue, "--max", "2", env=broker.env())
    assert result.code == 1
    assert result.state["status"] == "failed"
    assert (result.state["value"], result.state["threshold"]) == (3, 2)
    assert result.state["error"] == f"queue {queue} holds 3 messages, over the threshold 2"
    assert error_lines(result) == [f"error: {result.state['error']}"]


def test_parking_lot_missing_queue_fails_rather_than_reading_zero(
    parked: tuple[Broker, str],
) -> None:
    broker, queue = parked
    missing = queue.replace(".parked", ".parkd")
    result = run_check("parking-lot", "--queue", missing, "--max", "100", env=broker.env())
    assert result.code == 1
    assert result.state["value"] is None
    assert result.state["error"].endswith(f"queue {missing} does not exist in vhost {broker.vhost}")


def test_parking_lot_wrong_password_is_one_line_without_the_password(
    parked: tuple[Broker, str],
) -> None:
    broker, queue = parked
    env = {**broker.env(), "MONITORING_RABBITMQ_PASSWORD": "not-the-password-x1"}
    result = run_check("parking-lot", "--queue", queue, "--max", "100", env=env)
    assert result.code == 1
    assert "HTTP 401" in result.state["error"]
    assert error_lines(result) == [f"error: {result.state['error']}"]
    assert "not-the-password-x1" not in result.stderr + json.dumps(result.state)


def test_rabbitmq_unreachable_is_one_line_and_exit_1() -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    result = run_check(
        "parking-lot", "--queue", "orders.parked", "--max", "0",
        "--rabbitmq-management-url", url, "--check-timeout-s", "2",
    )  # fmt: skip
    assert result.code == 1
    assert result.state["status"] == "failed"
    assert result.state["value"] is None
    assert result.state["error"].startswith(f"rabbitmq {url}/api/queues/%2F: ")
    assert error_lines(result) == [f"error: {result.state['error']}"]


def test_a_missing_setting_is_exit_2_naming_the_variable() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "monitoring", "check", "parking-lot", "--queue", "q", "--max", "1"],
        env={k: v for k, v in os.environ.items() if not k.startswith("MONITORING_")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "error: set MONITORING_RABBITMQ_MANAGEMENT_URL or --rabbitmq-management-url"
    )
