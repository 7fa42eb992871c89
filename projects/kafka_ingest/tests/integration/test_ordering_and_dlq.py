"""Producer guarantees and poison handling against the real broker."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from confluent_kafka import Producer
from kafka_ingest.clients import producer_config
from kafka_ingest.config import KafkaIngestSettings
from kafka_ingest.dlq import H_ERROR, H_OFFSET, H_ORIGIN, H_PARTITION, H_TIME, H_TOPIC
from kafka_ingest.producer import produce
from kafka_ingest.sources import generate

from .conftest import (
    cli_env,
    parquet_pairs,
    produce_raw,
    read_topic,
    run_cli,
    topic_env,
    valid_events,
)

pytestmark = pytest.mark.integration


def test_one_key_one_partition_in_production_order(
    kafka_bootstrap: str, topic_pair: Callable[[int], tuple[str, str]], tmp_path: Path
) -> None:
    topic, dlq = topic_pair(4)
    summary = run_cli(
        ["produce", "--generate", "3000", "--keys", "40", "--topic", topic, "--dlq-topic", dlq],
        cli_env(kafka_bootstrap),
        tmp_path,
    )
    assert summary["records_out"] == 3000 and summary["records_skipped"] == {"undelivered": 0}
    partitions_of: dict[str, set[int]] = {}
    seqs: dict[str, list[int]] = {}
    for msg in read_topic(kafka_bootstrap, topic):
        event = orjson.loads(msg.value())
        partitions_of.setdefault(event["key"], set()).add(msg.partition())
        seqs.setdefault(event["key"], []).append(event["payload"]["seq"])
    assert len(partitions_of) == 40
    assert set().union(*partitions_of.values()) == {0, 1, 2, 3}
    assert all(len(p) == 1 for p in partitions_of.values())
    # Read partition by partition, each key's events come back exactly in the order produced.
    assert all(s == list(range(len(s))) for s in seqs.values())


def test_producer_sends_invalid_input_to_the_dlq_with_its_origin(
    kafka_bootstrap: str, topic_pair: Callable[[int], tuple[str, str]], tmp_path: Path
) -> None:
    topic, dlq = topic_pair(2)
    source = tmp_path / "in.jsonl"
    good = b'{"event_id":"a","key":"k","ts":"2026-01-01T00:00:00Z","kind":"click","payload":{}}'
    source.write_bytes(good + b"\n{broken\n" + good.replace(b'"click"', b'"BAD KIND"') + b"\n")
    summary = run_cli(
        ["produce", "--input", str(source), "--topic", topic, "--dlq-topic", dlq],
        cli_env(kafka_bootstrap),
        tmp_path,
    )
    assert (summary["records_in"], summary["records_out"], summary["records_rejected"]) == (3, 1, 2)
    dead = read_topic(kafka_bootstrap, dlq)
    headers = [dict(m.headers() or []) for m in dead]
    assert [h[H_ORIGIN] for h in headers] == [b"in.jsonl:2", b"in.jsonl:3"]
    assert headers[0][H_ERROR].startswith(b"decode")
    assert b"kind" in headers[1][H_ERROR]


def test_poison_goes_to_the_dlq_with_headers_and_never_blocks_its_partition(
    kafka_bootstrap: str, topic_pair: Callable[[int], tuple[str, str]], tmp_path: Path
) -> None:
    topic, dlq = topic_pair(1)
    items = list(generate(300, seed=3))
    poison: list[tuple[bytes | None, bytes | None]] = [
        (b"k1", b"\x00\x01 not json"),
        (b"k2", b'{"event_id": "x"}'),
        (b"k3", None),
    ]
    # Poison first, in the middle and last on the single partition: nothing after it may stall.
    raw = [(i.event["key"].encode(), i.raw) for i in items]
    produce_raw(kafka_bootstrap, topic, [poison[0], *raw[:150], poison[1], *raw[150:], poison[2]])
    summary = run_cli(
        [
            "consume",
            "--topic",
            topic,
            "--dlq-topic",
            dlq,
            "--group-id",
            f"g-{topic}",
            "--output-dir",
            str(tmp_path / "out"),
            "--batch-size",
            "100",
            "--stop-at-end",
            "--idle-timeout",
            "10",
        ],
        cli_env(kafka_bootstrap),
        tmp_path,
    )
    assert (summary["records_in"], summary["records_out"], summary["records_rejected"]) == (
        303,
        300,
        3,
    )
    assert len(parquet_pairs(tmp_path / "out", topic)) == 300
    dead = read_topic(kafka_bootstrap, dlq)
    assert [m.value() for m in dead] == [p[1] for p in poison]
    assert [m.key() for m in dead] == [p[0] for p in poison]
    first = dict(dead[0].headers() or [])
    assert first[H_TOPIC] == topic.encode()
    assert (first[H_PARTITION], first[H_OFFSET]) == (b"0", b"0")
    assert first[H_ERROR].startswith(b"decode: not JSON")
    assert first[H_TIME].startswith(b"20")
    assert dict(dead[1].headers() or [])[H_OFFSET] == b"151"
    assert b"schema" in dict(dead[1].headers() or [])[H_ERROR]
    assert b"tombstone" in dict(dead[2].headers() or [])[H_ERROR]


def test_backpressure_waits_instead_of_failing(
    kafka_bootstrap: str, topic_pair: Callable[[int], tuple[str, str]]
) -> None:
    topic, dlq = topic_pair(2)
    settings = KafkaIngestSettings(
        bootstrap=kafka_bootstrap, topic=topic, dlq_topic=dlq, queue_max_messages=50, linger_ms=50
    )
    producer = Producer(producer_config(settings))
    result = produce(settings, generate(5000, pad_bytes=200), producer=producer)
    assert result.produced == 5000 and result.failed == 0
    assert result.backpressure_waits > 0


def test_consumed_events_match_the_source_exactly(
    kafka_bootstrap: str, topic_pair: Callable[[int], tuple[str, str]], tmp_path: Path
) -> None:
    topic, dlq = topic_pair(3)
    env = topic_env(kafka_bootstrap, topic, dlq)
    run_cli(["produce", "--generate", "2000", "--invalid-every", "40"], env, tmp_path)
    summary = run_cli(
        ["consume", "--output-dir", "out", "--stop-at-end", "--idle-timeout", "10"], env, tmp_path
    )
    expected = valid_events(generate(2000, invalid_every=40))
    assert summary["records_out"] == len(expected) == 1950
    assert dict(parquet_pairs(tmp_path / "out", topic)) == expected
    lag = run_cli(["lag"], env, tmp_path)
    assert lag["total_lag"] == 0
    assert all(p["committed"] == p["high"] for p in lag["partitions"])
