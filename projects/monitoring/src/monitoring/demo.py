"""The demo scenario: a little of everything the exporter watches, seeded in the services given."""

from __future__ import annotations

import base64
import json
import os
import urllib.parse
import urllib.request
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import boto3
import psycopg2
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined, unused-ignore]

from monitoring.checks import Check
from monitoring.checks.hdfs import Folder, HdfsFolders
from monitoring.checks.kafka import KafkaLag
from monitoring.checks.postgres import PostgresTables, Table
from monitoring.checks.rabbitmq import RabbitQueues
from monitoring.checks.s3 import Prefix, S3Prefixes

TABLE = "monitoring_demo_orders"
TOPIC = "monitoring-demo-events"
GROUP = "monitoring-demo"
QUEUE = "monitoring-demo.tasks"
BUCKET = "monitoring-demo"
FOLDER = "/monitoring-demo/events"
TIMEOUT_S = 5.0
LAG = 5


def postgres(dsn: str) -> Check:
    """A table whose newest row is two hours old against a one-hour SLA: stale."""
    newest = datetime.now(UTC) - timedelta(hours=2)
    conn = psycopg2.connect(dsn, connect_timeout=5)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS {TABLE} (id int PRIMARY KEY, updated_at timestamptz)"
            )
            cur.execute(f"TRUNCATE {TABLE}")
            insert = f"INSERT INTO {TABLE} SELECT i, %s - make_interval(mins => i)"
            cur.execute(
                insert + " FROM generate_series(0, 99) i",
                (newest,),
            )
    finally:
        conn.close()
    return PostgresTables("demo-postgres", dsn, [Table(TABLE, "updated_at", 3600)], TIMEOUT_S)


def kafka(bootstrap: str) -> Check:
    """30 events over 3 partitions, a group 5 behind on each, 2 more in the DLQ."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    dlq = f"{TOPIC}.dlq"
    existing = admin.list_topics(timeout=10).topics
    new = [
        NewTopic(t, num_partitions=n, replication_factor=1)
        for t, n in ((TOPIC, 3), (dlq, 1))
        if t not in existing
    ]
    for future in admin.create_topics(new).values() if new else []:
        future.result(timeout=30)
    producer = Producer({"bootstrap.servers": bootstrap})
    for i in range(30):
        producer.produce(TOPIC, value=json.dumps({"id": i}).encode(), partition=i % 3)
    for i in range(2):
        producer.produce(dlq, value=json.dumps({"id": i, "error": "bad payload"}).encode())
    producer.flush(30)
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": GROUP, "enable.auto.commit": False}
    )
    try:
        # Five behind the end of each partition, however many runs came before: a rerun is the same.
        ends = [
            consumer.get_watermark_offsets(TopicPartition(TOPIC, p), timeout=10)[1]
            for p in range(3)
        ]
        offsets = [TopicPartition(TOPIC, p, end - LAG) for p, end in enumerate(ends)]
        consumer.commit(offsets=offsets, asynchronous=False)
    finally:
        consumer.close()
    return KafkaLag("demo-kafka", bootstrap, [GROUP], [TOPIC], [dlq], TIMEOUT_S)


def rabbitmq(management_url: str) -> Check:
    """A work queue with 10 messages and no consumer, and its dead-letter queue with 1."""
    auth = base64.b64encode(b"guest:guest").decode()

    def call(method: str, path: str, body: Mapping[str, object]) -> None:
        request = urllib.request.Request(  # noqa: S310 - the configured API
            management_url.rstrip("/") + path, data=json.dumps(body).encode(), method=method,
            headers={"Authorization": f"Basic {auth}", "Content-Type": "application/json"},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=10):  # noqa: S310 - the configured API
            pass

    vhost = urllib.parse.quote("/", safe="")
    for queue, count in ((QUEUE, 10), (f"{QUEUE}.dlq", 1)):
        call("PUT", f"/api/queues/{vhost}/{urllib.parse.quote(queue)}", {"durable": True})
        call("DELETE", f"/api/queues/{vhost}/{urllib.parse.quote(queue)}/contents", {})
        for i in range(count):
            message = {
                "properties": {},
                "routing_key": queue,
                "payload": f"task {i}",
                "payload_encoding": "string",
            }
            call("POST", f"/api/exchanges/{vhost}/amq.default/publish", message)
    return RabbitQueues(
        "demo-rabbitmq", management_url, "/", "guest", "guest", r"monitoring-demo\..*",
        r".*\.dlq", r".*\.parked", TIMEOUT_S,
    )  # fmt: skip


def s3(endpoint: str) -> Check:
    """Five objects under raw/events/ in the demo bucket."""
    # A local demo endpoint (moto, MinIO) takes any key; real credentials in the env still win.
    session = boto3.session.Session()
    if session.get_credentials() is None:
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing-secret")
        session = boto3.session.Session()
    client = session.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    buckets = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
    if BUCKET not in buckets:
        client.create_bucket(Bucket=BUCKET)
    for i in range(5):
        client.put_object(Bucket=BUCKET, Key=f"raw/events/part-{i}.jsonl", Body=b'{"id": 1}\n')
    return S3Prefixes("demo-s3", BUCKET, [Prefix("raw/events/", 3600)], TIMEOUT_S, endpoint)


def hdfs(webhdfs_url: str) -> Check:
    """Two daily partition folders under the demo folder."""
    for day in ("dt=2026-11-29", "dt=2026-11-30"):
        query = urllib.parse.urlencode({"op": "MKDIRS", "user.name": "monitoring"})
        url = f"{webhdfs_url.rstrip('/')}/webhdfs/v1{FOLDER}/{day}?{query}"
        with urllib.request.urlopen(urllib.request.Request(url, method="PUT"), timeout=10):  # noqa: S310
            pass
    return HdfsFolders("demo-hdfs", webhdfs_url, [Folder(FOLDER, 86_400)], TIMEOUT_S)
