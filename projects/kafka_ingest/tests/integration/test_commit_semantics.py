"""Commit semantics: SIGKILL mid-batch, rebalances, SIGTERM and replays never lose or double count."""

from __future__ import annotations

import json
import signal
import socket
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from kafka_ingest.sources import generate

from .conftest import (
    TopicEnv,
    checksum,
    cli,
    parquet_pairs,
    pg_execute,
    postgres_pairs,
    run_cli,
    sinks_env,
    start_cli,
    valid_events,
)

pytestmark = pytest.mark.integration


def wait_for(predicate: Callable[[], bool], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def scrape(port: int) -> str:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as resp:
            text: str = resp.read().decode()
            return text
    except OSError:
        return ""


def watermarks(root: Path, topic: str) -> int:
    """How many partitions have a Parquet manifest (written with the first roll)."""
    return len(list((root / topic / "_offsets").glob("*.json")))


def assert_exactly_once(root: Path, topic: str, pg_url: str, expected: dict[str, str]) -> None:
    want = checksum(expected.items())
    in_parquet = parquet_pairs(root, topic)
    in_postgres = postgres_pairs(pg_url)
    assert len(in_parquet) == len(expected)
    assert checksum(in_parquet) == want
    assert len(in_postgres) == len(expected)
    assert checksum(in_postgres) == want


def test_sigkill_mid_batch_then_restart_is_exactly_once(
    topic_with_env: TopicEnv, pg_database: str, tmp_path: Path
) -> None:
    # Buffers roll every 1,000 records per partition-hour, so some are durable before the kill.
    topic, env = topic_with_env(3, **sinks_env(pg_database, tmp_path), roll_records="1000")
    run_cli(["produce", "--generate", "20000", "--invalid-every", "100"], env, tmp_path)
    args = ["consume", "--sink", "parquet", "--sink", "postgres", "--batch-size", "700"]
    victim = start_cli(args, env, tmp_path)
    # Kill once some batches are durable and committed, so the restart must resume mid-stream.
    wait_for(lambda: watermarks(tmp_path / "out", topic) >= 1)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    assert victim.returncode == -signal.SIGKILL
    partial = len(parquet_pairs(tmp_path / "out", topic))
    assert 0 < partial < 19800
    summary = run_cli([*args, "--stop-at-end", "--idle-timeout", "15"], env, tmp_path)
    assert 0 < summary["records_in"] < 20000  # it resumed, it did not start over
    assert_exactly_once(
        tmp_path / "out", topic, pg_database, valid_events(generate(20000, invalid_every=100))
    )


def test_rebalance_between_two_consumers_loses_and_duplicates_nothing(
    topic_with_env: TopicEnv, pg_database: str, tmp_path: Path
) -> None:
    topic, env = topic_with_env(
        4, **sinks_env(pg_database, tmp_path), enrich_latency_ms="0", roll_records="500"
    )
    args = ["consume", "--sink", "parquet", "--sink", "postgres", "--batch-size", "500"]
    args += ["--idle-timeout", "8"]
    first = start_cli(args, env, tmp_path)
    run_cli(["produce", "--generate", "10000", "--seed", "1"], env, tmp_path)
    wait_for(lambda: watermarks(tmp_path / "out", topic) >= 1)
    second_log = tmp_path / "second.log"
    second = start_cli(args, env, tmp_path, stderr=second_log)
    # Only once the second member holds partitions does the rest of the stream arrive.
    wait_for(lambda: '"assigned"' in second_log.read_text(), timeout_s=90)
    run_cli(["produce", "--generate", "20000", "--seed", "2"], env, tmp_path)
    out_first, err_first = first.communicate(timeout=240)
    second.wait(timeout=240)
    assert second.stdout is not None
    out_second = second.stdout.read()
    assert first.returncode == 0, err_first[-2000:]
    assert second.returncode == 0, second_log.read_text()[-2000:]
    a, b = json.loads(out_first), json.loads(out_second)
    # The group really rebalanced: the first member gave partitions up, the second did work.
    assert a["revocations"] >= 1
    assert a["records_in"] > 0 and b["records_in"] > 0
    assert a["records_in"] + b["records_in"] >= 30000
    expected = valid_events(generate(10000, seed=1)) | valid_events(generate(20000, seed=2))
    assert len(expected) == 30000
    assert_exactly_once(tmp_path / "out", topic, pg_database, expected)


def test_sigterm_finishes_the_batch_commits_and_exits_cleanly(
    topic_with_env: TopicEnv, tmp_path: Path
) -> None:
    topic, env = topic_with_env(2, roll_records="200")
    run_cli(["produce", "--generate", "3000"], env, tmp_path)
    port = free_port()
    args = ["consume", "--output-dir", "out", "--batch-size", "200", "--metrics-port", str(port)]
    service = start_cli(args, env, tmp_path)
    wait_for(lambda: watermarks(tmp_path / "out", topic) >= 2)
    # A long-running consumer exposes its counters and per-partition lag while it runs.
    wait_for(lambda: 'kafka_ingest_consumer_lag{partition="0"' in scrape(port))
    metrics = scrape(port)
    assert 'kafka_ingest_messages_total{outcome="consumed"}' in metrics
    service.send_signal(signal.SIGTERM)
    out, err = service.communicate(timeout=60)
    assert service.returncode == 0, err[-2000:]
    summary = json.loads(out)
    # Whatever it had read when the signal came was written and committed, nothing more, nothing less.
    assert summary["records_out"] == summary["records_in"] > 0
    assert len(parquet_pairs(tmp_path / "out", topic)) == summary["records_out"]
    assert run_cli(["lag"], env, tmp_path)["total_lag"] == 3000 - summary["records_in"]


def test_replay_rewrites_nothing_twice_and_refills_an_emptied_sink(
    topic_with_env: TopicEnv, pg_database: str, tmp_path: Path
) -> None:
    topic, env = topic_with_env(2, **sinks_env(pg_database, tmp_path))
    run_cli(["produce", "--generate", "1000"], env, tmp_path)
    both = ["--sink", "parquet", "--sink", "postgres"]
    run_cli(["consume", *both, "--stop-at-end", "--idle-timeout", "10"], env, tmp_path)
    again = run_cli(["replay", *both, "--from-offset", "0"], env, tmp_path)
    assert (again["records_in"], again["records_out"], again["records_skipped"]) == (
        1000,
        0,
        {"duplicate": 1000},
    )
    pg_execute(pg_database, "DELETE FROM events WHERE partition = 1")
    refill = run_cli(["replay", "--sink", "postgres", "--from-offset", "0"], env, tmp_path)
    assert refill["records_out"] + refill["records_skipped"]["duplicate"] == 1000
    assert refill["records_out"] > 0
    assert_exactly_once(tmp_path / "out", topic, pg_database, valid_events(generate(1000)))
    # The group's own offsets were not moved by the replays.
    assert run_cli(["lag"], env, tmp_path)["total_lag"] == 0


def test_replay_from_timestamp_starts_at_offsets_for_times(
    topic_with_env: TopicEnv, tmp_path: Path
) -> None:
    topic, env = topic_with_env(2)
    run_cli(["produce", "--generate", "500", "--seed", "1"], env, tmp_path)
    time.sleep(1.5)
    middle = int(time.time() * 1000)
    time.sleep(0.5)
    run_cli(["produce", "--generate", "300", "--seed", "2"], env, tmp_path)
    summary = run_cli(
        ["replay", "--from-timestamp", str(middle), "--output-dir", "out"], env, tmp_path
    )
    assert summary["records_in"] == 300
    ids = {e for e, _ in parquet_pairs(tmp_path / "out", topic)}
    assert ids == set(valid_events(generate(300, seed=2)))


def test_async_pipeline_enriches_everything_once(topic_with_env: TopicEnv, tmp_path: Path) -> None:
    topic, env = topic_with_env(3)
    run_cli(["produce", "--generate", "2000", "--invalid-every", "50"], env, tmp_path)
    summary = run_cli(
        [
            "consume",
            "--async",
            "--enrich-latency-ms",
            "20",
            "--enrich-concurrency",
            "200",
            "--output-dir",
            "out",
            "--batch-size",
            "300",
            "--stop-at-end",
            "--idle-timeout",
            "10",
        ],
        env,
        tmp_path,
    )
    # The producer already diverted the 40 invalid events to the DLQ: the topic holds 1960.
    assert (summary["records_in"], summary["records_out"], summary["records_rejected"]) == (
        1960,
        1960,
        0,
    )
    assert summary["pipeline"] == "async"
    # Enrichments overlapped (the point of the stage) but never beyond the configured bound.
    assert 1 < summary["peak_enrichments"] <= 200
    rows = parquet_pairs(tmp_path / "out", topic)
    expected = valid_events(generate(2000, invalid_every=50))
    assert {e for e, _ in rows} == set(expected) and len(rows) == len(expected)
    assert all('"segment"' in payload for _, payload in rows)


def test_a_sink_that_refuses_the_batch_fails_the_run_and_commits_nothing(
    topic_with_env: TopicEnv, pg_database: str, tmp_path: Path
) -> None:
    _, env = topic_with_env(2, postgres_url=pg_database)
    run_cli(["produce", "--generate", "500"], env, tmp_path)
    pg_execute(
        pg_database,
        "CREATE TABLE events (event_id text PRIMARY KEY, key text NOT NULL,"
        " ts timestamptz NOT NULL, kind text NOT NULL CHECK (kind <> 'purchase'),"
        " payload jsonb NOT NULL, topic text NOT NULL, partition integer NOT NULL,"
        ' "offset" bigint NOT NULL, ingested_at timestamptz NOT NULL DEFAULT now())',
    )
    args = ["consume", "--sink", "postgres", "--batch-size", "5000", "--stop-at-end"]
    proc = cli(args, env, tmp_path)
    assert proc.returncode == 1
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "postgres sink refused the batch" in errors[0]
    assert "Traceback" not in proc.stderr
    assert run_cli(["lag"], env, tmp_path)["total_lag"] == 500
    pg_execute(pg_database, "ALTER TABLE events DROP CONSTRAINT events_kind_check")
    summary = run_cli([*args, "--idle-timeout", "10"], env, tmp_path)
    assert summary["records_out"] == 500
    assert len(postgres_pairs(pg_database)) == 500
