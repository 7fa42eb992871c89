"""stream_health through `dag.test()` against a real Kafka topic and a real RabbitMQ parking lot,
measured by monitoring's threshold checks: at the limit both pass (their JSON in XCom); one over
its limit fails that task alone, the run fails and the failure callback's metric for that task
reaches the Pushgateway (the alert source)."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.parse
import urllib.request
from base64 import b64encode
from pathlib import Path
from typing import Any

import pytest
from airflow.dag_processing.dagbag import DagBag
from airflow_dags.config import AirflowDagsSettings

from de_services.testing import unique_name

pytestmark = pytest.mark.integration

DAGS = Path(__file__).resolve().parents[2] / "src" / "airflow_dags" / "dags"
EVENTS = 20
PARKED = 3


@pytest.fixture
def lagging_topic(kafka_bootstrap: str) -> str:
    """A new topic with EVENTS events, both by kafka_ingest's CLI; nobody has consumed them."""
    python = AirflowDagsSettings().venv("kafka_ingest") / "bin" / "python"
    kafka_topic = unique_name("airflow-health", "-")
    subprocess.run(
        [python, "-m", "kafka_ingest", "topics", "create", kafka_topic, "--partitions", "2",
         "--bootstrap", kafka_bootstrap, "--json"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    subprocess.run(
        [python, "-m", "kafka_ingest", "produce", "--generate", str(EVENTS),
         "--bootstrap", kafka_bootstrap, "--topic", kafka_topic, "--json"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    return kafka_topic


class Management:
    """The broker's HTTP management API (guest/guest), on one vhost."""

    def __init__(self, url: str, vhost: str) -> None:
        self.url, self.vhost = url.rstrip("/"), urllib.parse.quote(vhost, safe="")

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        request = urllib.request.Request(
            f"{self.url}/api/{path}", method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json",
                     "Authorization": "Basic " + b64encode(b"guest:guest").decode()},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status in (200, 201, 204), response.status
            text = response.read()
        return json.loads(text) if text else None

    def declare(self, queue: str) -> None:
        self.call("PUT", f"queues/{self.vhost}/{queue}", {"durable": True})

    def park(self, queue: str, count: int) -> None:
        """`count` messages into `queue` through the default exchange, as a worker parks them."""
        for i in range(count):
            self.call(
                "POST", f"exchanges/{self.vhost}/amq.default/publish",
                {"properties": {"delivery_mode": 2}, "routing_key": queue,
                 "payload": f"not json {i}", "payload_encoding": "string"},
            )  # fmt: skip

    def await_stats(self, queue: str, messages: int) -> None:
        """Until the management API's figures (sampled every few seconds) show `messages`."""
        deadline = time.monotonic() + 60
        while self.call("GET", f"queues/{self.vhost}/{queue}").get("messages") != messages:
            assert time.monotonic() < deadline, f"{queue} never reported {messages} messages"
            time.sleep(0.5)


def last_failure(pushgateway: str, task: str) -> float:
    """airflow_dags_last_failure_timestamp_seconds of stream_health.<task> (0 when absent)."""
    text = urllib.request.urlopen(f"{pushgateway}/metrics", timeout=10).read().decode()
    for line in text.splitlines():
        if (
            line.startswith("airflow_dags_last_failure_timestamp_seconds{")
            and 'dag="stream_health"' in line
            and f'task="{task}"' in line
        ):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def run_checks() -> tuple[str, dict[str, str], dict[str, Any]]:
    """dag.test of stream_health: the run's state, each task's state, the XCom of those that passed."""
    from airflow.models import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    dag = DagBag(dag_folder=str(DAGS / "stream_health.py")).dags["stream_health"]
    run = dag.test()
    with create_session() as session:
        tis = session.query(TaskInstance).filter_by(dag_id="stream_health", run_id=run.run_id)
        states = {ti.task_id: str(ti.state) for ti in tis}
        xcoms = {
            x.task_id: XComModel.deserialize_value(x)
            for x in session.query(XComModel).filter_by(dag_id="stream_health", run_id=run.run_id)
            if x.key == "return_value"
        }
    return str(run.state), states, xcoms


def test_checks_pass_at_their_limits_and_each_breach_alerts(
    dag_env: dict[str, str],
    kafka_bootstrap: str,
    lagging_topic: str,
    rabbitmq_vhost: str,
    rabbitmq_management_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    vhost = urllib.parse.unquote(urllib.parse.urlsplit(rabbitmq_vhost).path[1:])
    prefix = unique_name("tasks", ".")
    broker = Management(rabbitmq_management_url, vhost)
    broker.declare(f"{prefix}.parked")
    broker.park(f"{prefix}.parked", PARKED)
    broker.await_stats(f"{prefix}.parked", PARKED)
    for key, value in {
        "AIRFLOW_DAGS_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "AIRFLOW_DAGS_KAFKA_TOPIC": lagging_topic,
        "AIRFLOW_DAGS_KAFKA_GROUP": f"{lagging_topic}-readers",
        "AIRFLOW_DAGS_RABBITMQ_MANAGEMENT_URL": rabbitmq_management_url,
        "AIRFLOW_DAGS_RABBITMQ_VHOST": vhost,
        "AIRFLOW_DAGS_RABBITMQ_PREFIX": prefix,
        "AIRFLOW_DAGS_MAX_KAFKA_LAG": str(EVENTS),
        "AIRFLOW_DAGS_MAX_PARKED": str(PARKED),
    }.items():
        monkeypatch.setenv(key, value)
    pushgateway = dag_env["AIRFLOW_DAGS_PUSHGATEWAY_URL"]

    state, tasks, xcom = run_checks()
    assert (state, tasks) == ("success", {"kafka_lag": "success", "parking_lot": "success"})
    # The group never committed: every event counts, from the topic's start, over both partitions.
    assert (xcom["kafka_lag"]["value"], xcom["kafka_lag"]["threshold"]) == (EVENTS, EVENTS)
    assert len(xcom["kafka_lag"]["partitions"]) == 2
    parked = xcom["parking_lot"]
    assert (parked["queue"], parked["value"], parked["threshold"]) == (
        f"{prefix}.parked", PARKED, PARKED,
    )  # fmt: skip
    assert (parked["messages_ready"], parked["messages_unacked"]) == (PARKED, 0)

    before = {t: last_failure(pushgateway, t) for t in tasks}
    started = time.time()
    monkeypatch.setenv("AIRFLOW_DAGS_MAX_KAFKA_LAG", str(EVENTS - 1))
    state, tasks, _ = run_checks()
    assert (state, tasks) == ("failed", {"kafka_lag": "failed", "parking_lot": "success"})
    assert last_failure(pushgateway, "kafka_lag") >= started > before["kafka_lag"]
    assert last_failure(pushgateway, "parking_lot") == before["parking_lot"]

    started = time.time()
    monkeypatch.setenv("AIRFLOW_DAGS_MAX_KAFKA_LAG", str(EVENTS))
    broker.park(f"{prefix}.parked", 1)  # one more task gave up: over the limit of PARKED
    broker.await_stats(f"{prefix}.parked", PARKED + 1)
    state, tasks, _ = run_checks()
    assert (state, tasks) == ("failed", {"kafka_lag": "success", "parking_lot": "failed"})
    assert last_failure(pushgateway, "parking_lot") >= started > before["parking_lot"]


def test_an_unreachable_broker_fails_the_check(
    dag_env: dict[str, str], kafka_bootstrap: str, lagging_topic: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    # A port nobody listens on: the check must fail (and alert), never pass by measuring nothing.
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("AIRFLOW_DAGS_KAFKA_BOOTSTRAP", kafka_bootstrap)
    monkeypatch.setenv("AIRFLOW_DAGS_KAFKA_TOPIC", lagging_topic)
    monkeypatch.setenv("AIRFLOW_DAGS_KAFKA_GROUP", f"{lagging_topic}-readers")
    monkeypatch.setenv("AIRFLOW_DAGS_MAX_KAFKA_LAG", str(EVENTS))
    monkeypatch.setenv("AIRFLOW_DAGS_RABBITMQ_MANAGEMENT_URL", f"http://127.0.0.1:{port}")
    state, tasks, _ = run_checks()
    assert (state, tasks) == ("failed", {"kafka_lag": "success", "parking_lot": "failed"})
