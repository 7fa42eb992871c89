"""A controlled setup measured through a real Prometheus: gauge values via the HTTP API, alerts
fired by Prometheus's own rule evaluation, and down or hung targets that never break the scrape."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg2
import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from promkit import (
    Exporter,
    Prometheus,
    rabbit_publish,
    vhost_of,
    wait_until,
)

from de_services.testing import s3_client

pytestmark = pytest.mark.integration


def produce(bootstrap: str, topic: str, per_partition: dict[int, int]) -> None:
    producer = Producer({"bootstrap.servers": bootstrap})
    for partition, count in per_partition.items():
        for i in range(count):
            producer.produce(topic, value=f"m{i}".encode(), partition=partition)
    assert producer.flush(30) == 0


def commit(bootstrap: str, group: str, offsets: list[TopicPartition]) -> None:
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False}
    )
    try:
        consumer.commit(offsets=offsets, asynchronous=False)
    finally:
        consumer.close()


@pytest.fixture
def hung_server() -> Iterator[int]:
    """A TCP server that accepts connections and never answers: a target that hangs."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(server.getsockname()[1])
    stop.set()
    thread.join(5)
    for conn in held:
        conn.close()
    server.close()


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        [sys.executable, "-m", "monitoring", *args], capture_output=True, text=True, timeout=120,
        env={**os.environ, **env}, check=False,
    )  # fmt: skip


def test_gauges_and_alerts_through_prometheus(
    prometheus: Callable[[list[str], str | None], Prometheus],
    exporter: Callable[[dict[str, Any]], Exporter],
    kafka_bootstrap: str,
    kafka_topic: Callable[..., str],
    pg_database: str,
    rabbitmq_vhost: str,
    rabbitmq_management_url: str,
    s3_endpoint: str,
    s3_bucket: str,
    hdfs_url: str,
    hdfs_dir: str,
    pushgateway_url: str,
    hung_server: int,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # boto3 in the exporter reads the standard AWS chain; these work for moto and compose's MinIO.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing-secret")
    # Kafka: 100 messages per partition; the group committed 10 on partition 0, nothing on 1.
    topic, dlq = kafka_topic(partitions=2), kafka_topic(partitions=1)
    group = f"group-{topic}"
    produce(kafka_bootstrap, topic, {0: 100, 1: 100})
    commit(kafka_bootstrap, group, [TopicPartition(topic, 0, 10)])
    # PostgreSQL: orders last written two hours ago (SLA 60 s), events just now (SLA 1 h).
    stale = datetime.now(UTC) - timedelta(hours=2)
    with psycopg2.connect(pg_database) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE orders (id int, updated_at timestamptz)")
        cur.execute(
            "INSERT INTO orders SELECT i, %s - make_interval(secs => i) FROM generate_series(0, 49) i",
            (stale,),
        )
        cur.execute("CREATE TABLE events (id int, updated_at timestamptz)")
        cur.execute("INSERT INTO events SELECT i, now() FROM generate_series(1, 7) i")
    conn.close()
    # RabbitMQ: a work queue with no consumer, a dead-letter queue and a parking lot.
    vhost = vhost_of(rabbitmq_vhost)
    rabbit_publish(rabbitmq_management_url, vhost, "tasks", 5)
    rabbit_publish(rabbitmq_management_url, vhost, "tasks.dlq", 2)
    rabbit_publish(rabbitmq_management_url, vhost, "tasks.parked", 1)
    # S3: four objects under raw/; HDFS: two partition folders.
    s3 = s3_client(s3_endpoint)
    for i in range(4):
        s3.put_object(Bucket=s3_bucket, Key=f"raw/part-{i}.json", Body=b"{}")
    newest_object = max(
        o["LastModified"].timestamp() for o in s3.list_objects_v2(Bucket=s3_bucket)["Contents"]
    )
    for day in ("dt=2026-11-29", "dt=2026-11-30"):
        req = urllib.request.Request(
            f"{hdfs_url}/webhdfs/v1{hdfs_dir}/{day}?op=MKDIRS&user.name=root", method="PUT"
        )
        urllib.request.urlopen(req, timeout=30).close()

    checks = {
        "timeout_s": 5,
        "job_success_sla_s": {"monitoring": 1},
        "checks": [
            {"name": "lag", "kind": "kafka", "bootstrap": kafka_bootstrap, "groups": [group],
             "topics": [topic], "dead_letter_topics": [dlq]},
            {"name": "db", "kind": "postgres", "dsn": pg_database,
             "tables": [{"table": "public.orders", "sla_s": 60}, {"table": "public.events", "sla_s": 3600}]},
            {"name": "queues", "kind": "rabbitmq", "management_url": rabbitmq_management_url, "vhost": vhost},
            {"name": "lake", "kind": "s3", "bucket": s3_bucket, "endpoint": s3_endpoint, "prefixes": [{"prefix": "raw/"}]},
            {"name": "hdfs", "kind": "hdfs", "webhdfs_url": hdfs_url, "folders": [{"path": hdfs_dir}]},
            # Nothing listens on port 9; the hung server accepts and never answers.
            {"name": "dead-queues", "kind": "rabbitmq", "management_url": "http://127.0.0.1:9"},
            {"name": "hung-queues", "kind": "rabbitmq", "management_url": f"http://127.0.0.1:{hung_server}", "timeout_s": 1},
        ],
    }  # fmt: skip
    served = exporter(checks)
    prom = prometheus([served.target], pushgateway_url)
    env = {"MONITORING_PUSHGATEWAY_URL": pushgateway_url}
    urllib.request.urlopen(
        urllib.request.Request(f"{pushgateway_url}/metrics/job/monitoring", method="DELETE"),
        timeout=10,
    ).close()

    # Gauge values, as Prometheus stored them.
    prom.wait_value(f'pipeline_kafka_consumer_lag{{group="{group}",partition="0"}}', 90)
    prom.wait_value(f'pipeline_kafka_consumer_lag{{group="{group}",partition="1"}}', 100)
    prom.wait_value(f'pipeline_kafka_topic_messages{{topic="{dlq}",role="dead_letter"}}', 0)
    prom.wait_value('pipeline_data_items{check="db",target="public.orders"}', 50)
    prom.wait_value('pipeline_data_items{check="db",target="public.events"}', 7)
    newest = prom.value('pipeline_data_last_update_timestamp_seconds{target="public.orders"}')
    assert newest == pytest.approx(stale.timestamp(), abs=1e-3)
    prom.wait_value('pipeline_rabbitmq_queue_messages_ready{queue="tasks",role="work"}', 5)
    prom.wait_value(
        'pipeline_rabbitmq_queue_messages_ready{queue="tasks.dlq",role="dead_letter"}', 2
    )
    prom.wait_value(
        'pipeline_rabbitmq_queue_messages_ready{queue="tasks.parked",role="parking_lot"}', 1
    )
    assert prom.value('pipeline_rabbitmq_queue_consumers{queue="tasks"}') == 0
    prom.wait_value('pipeline_data_items{check="lake"}', 4)
    assert prom.value('pipeline_data_last_update_timestamp_seconds{check="lake"}') == pytest.approx(
        newest_object, abs=1
    )
    prom.wait_value('pipeline_data_items{check="hdfs"}', 2)
    for check in ("lag", "db", "queues", "lake", "hdfs"):
        assert prom.value(f'pipeline_check_up{{check="{check}"}}') == 1, check
    prom.wait_value('pipeline_check_up{check="dead-queues"}', 0)
    prom.wait_value('pipeline_check_up{check="hung-queues"}', 0)

    # Lag and the dead-letter topic grow while Prometheus watches; a batch run succeeds, then fails.
    produce(kafka_bootstrap, topic, {0: 50, 1: 50})
    produce(kafka_bootstrap, dlq, {0: 3})
    prom.wait_value(f'pipeline_kafka_consumer_lag{{group="{group}",partition="0"}}', 140)
    ok = run_cli("probe", "--checks", str(tmp_path / "checks-0.yml"), "--json", env=env)
    assert ok.returncode == 0, ok.stderr
    failed = run_cli("probe", "--checks", str(tmp_path / "missing.yml"), "--json", env=env)
    assert failed.returncode == 2, failed.stderr

    def alerts() -> set[tuple[str, str]]:
        return {
            (
                a["alertname"],
                a.get("target")
                or a.get("queue")
                or a.get("topic")
                or a.get("check")
                or a.get("project", ""),
            )
            for a in prom.firing()
        }

    expected = {
        ("PipelineDataStale", "public.orders"),
        ("KafkaConsumerLagGrowing", topic),
        ("DeadLetterTopicGrowing", dlq),
        ("DeadLetterQueueNotEmpty", "tasks.dlq"),
        ("DeadLetterQueueNotEmpty", "tasks.parked"),
        ("PipelineCheckDown", "dead-queues"),
        ("PipelineCheckDown", "hung-queues"),
        ("JobLastRunFailed", "monitoring"),
        ("JobLastSuccessTooOld", "monitoring"),
    }
    wait_until("the expected alerts firing", lambda: expected <= alerts(), timeout=90)
    fired = alerts()
    assert ("PipelineDataStale", "public.events") not in fired  # fresh within its SLA
    assert ("DeadLetterQueueNotEmpty", "tasks") not in fired  # a work queue is not a DLQ
    # The failed run kept the last success it followed (pushadd), which is what ages.
    assert prom.value('de_job_last_success_timestamp_seconds{project="monitoring"}') is not None

    # Down and hung targets never broke or slowed the exporter's own scrape.
    assert prom.value('min_over_time(up{job="exporter"}[1m])') == 1
    slowest = prom.value('max_over_time(scrape_duration_seconds{job="exporter"}[1m])')
    assert slowest is not None and slowest < 0.5
    reasons = [line["msg"] for line in served.log_lines() if "down:" in line.get("msg", "")]
    text = " ".join(str(r) for r in reasons)
    assert "dead-queues" in text and "Connection refused" in text
    assert "hung-queues" in text and "timeout" in text
