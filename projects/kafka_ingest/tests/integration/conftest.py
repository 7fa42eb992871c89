"""Helpers for the integration tests: run the real CLI, read topics and sinks back."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import orjson
import psycopg2
import pytest
from confluent_kafka import Consumer, Message, Producer
from kafka_ingest.events import InvalidEvent, validate
from kafka_ingest.sinks.parquet_files import read_all
from kafka_ingest.sources import SourceItem

CLI_TIMEOUT_S = 240


def cli_env(bootstrap: str, **settings: str) -> dict[str, str]:
    """The environment a CLI subprocess runs with: our settings, JSON logs, no stray KAFKA_INGEST_."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAFKA_INGEST_")}
    env["KAFKA_INGEST_BOOTSTRAP"] = bootstrap
    env.update({f"KAFKA_INGEST_{k.upper()}": v for k, v in settings.items()})
    return env


def topic_env(bootstrap: str, topic: str, dlq: str, **settings: str) -> dict[str, str]:
    """cli_env for one topic and its DLQ topic, with a consumer group of its own."""
    return cli_env(bootstrap, topic=topic, dlq_topic=dlq, group_id=f"g-{topic}", **settings)


def sinks_env(pg_url: str, root: Path) -> dict[str, str]:
    """Settings that send both sinks somewhere private: a database and an output folder."""
    return {"postgres_url": pg_url, "output_dir": str(root / "out")}


def cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run `python -m kafka_ingest ARGS --json` to the end, output captured."""
    return subprocess.run(
        [sys.executable, "-m", "kafka_ingest", *args, "--json"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
        check=False,
    )


def run_cli(args: list[str], env: dict[str, str], cwd: Path, expect: int = 0) -> dict[str, Any]:
    """Run the CLI (see cli()); return its one JSON summary."""
    proc = cli(args, env, cwd)
    assert proc.returncode == expect, proc.stderr[-3000:]
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stdout
    summary: dict[str, Any] = json.loads(lines[0])
    return summary


def start_cli(
    args: list[str], env: dict[str, str], cwd: Path, stderr: Path | None = None
) -> subprocess.Popen[str]:
    """The CLI as a background process (for kill and rebalance tests); logs to a file if given."""
    err = stderr.open("w") if stderr is not None else subprocess.PIPE
    return subprocess.Popen(
        [sys.executable, "-m", "kafka_ingest", *args, "--json"],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=err,
        text=True,
    )


def read_topic(
    bootstrap: str, topic: str, *, isolation: str = "read_committed", idle_s: float = 3.0
) -> list[Message]:
    """Every message of a topic from the beginning, stopping after idle_s without new ones."""
    import time

    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"reader-{topic}-{time.monotonic_ns()}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "isolation.level": isolation,
        }
    )
    consumer.subscribe([topic])
    out: list[Message] = []
    idle_since = time.monotonic()
    try:
        while time.monotonic() - idle_since < idle_s:
            for msg in consumer.consume(1000, 0.5):
                if msg.error() is None:
                    out.append(msg)
                    idle_since = time.monotonic()
    finally:
        consumer.close()
    return out


def produce_raw(
    bootstrap: str, topic: str, items: Iterable[tuple[bytes | None, bytes | None]]
) -> None:
    """Produce (key, value) pairs as-is, e.g. poison that our producer would refuse."""
    producer = Producer({"bootstrap.servers": bootstrap, "partitioner": "murmur2_random"})
    for key, value in items:
        producer.produce(topic, key=key, value=value)
    assert producer.flush(30) == 0


def valid_events(items: Iterable[SourceItem]) -> dict[str, str]:
    """event_id -> payload JSON for the items that pass validation (what the sinks should hold)."""
    out: dict[str, str] = {}
    for item in items:
        try:
            event = validate(orjson.loads(item.raw))
        except InvalidEvent:
            continue
        out[event["event_id"]] = orjson.dumps(event["payload"]).decode()
    return out


def checksum(pairs: Iterable[tuple[str, str]]) -> str:
    """Order-independent digest over (event_id, payload) pairs, duplicates included."""
    digest = hashlib.sha256()
    for event_id, payload in sorted(pairs):
        canonical = orjson.dumps(orjson.loads(payload), option=orjson.OPT_SORT_KEYS).decode()
        digest.update(f"{event_id}\t{canonical}\n".encode())
    return digest.hexdigest()


def parquet_pairs(root: Path, topic: str) -> list[tuple[str, str]]:
    """(event_id, payload) of every Parquet row, duplicates included."""
    table = read_all(root, topic)
    ids, values = table.column("event_id").to_pylist(), table.column("value").to_pylist()
    return [
        (event_id, orjson.dumps(orjson.loads(value)["payload"]).decode())
        for event_id, value in zip(ids, values, strict=True)
    ]


def pg_execute(url: str, statement: str) -> list[tuple[Any, ...]]:
    """Run one statement in its own committed transaction; its rows, if it returns any."""
    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(statement)
            return list(cur.fetchall()) if cur.description is not None else []
    finally:
        conn.close()


def postgres_pairs(url: str, table: str = "events") -> list[tuple[str, str]]:
    """(event_id, payload) of every PostgreSQL row."""
    rows = pg_execute(url, f"SELECT event_id, payload::text FROM {table}")
    return [(r[0], r[1]) for r in rows]


@pytest.fixture
def topic_pair(kafka_topic: Callable[..., str]) -> Callable[[int], tuple[str, str]]:
    """A fresh topic with N partitions and its DLQ topic, both deleted after the test."""

    def make(partitions: int = 3) -> tuple[str, str]:
        return kafka_topic(partitions=partitions), kafka_topic(partitions=1, prefix="dlq")

    return make


TopicEnv = Callable[..., tuple[str, dict[str, str]]]


@pytest.fixture
def topic_with_env(kafka_bootstrap: str, topic_pair: Callable[[int], tuple[str, str]]) -> TopicEnv:
    """A fresh topic with N partitions, and the CLI environment aimed at it and its DLQ."""

    def make(partitions: int = 3, **settings: str) -> tuple[str, dict[str, str]]:
        topic, dlq = topic_pair(partitions)
        return topic, topic_env(kafka_bootstrap, topic, dlq, **settings)

    return make
