"""The Structured Streaming variant: Kafka -> the same Parquet layout, SIGKILLed mid-batch and
restarted from its checkpoint, ending with every trip exactly once (checked against DuckDB)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest
from confluent_kafka import Producer

from de_services.testing import fault_env

from .conftest import cli, expected, summary_of

pytestmark = pytest.mark.integration
EVERY_DATE = (date(1970, 1, 1), date(9999, 12, 31))


def produce(bootstrap: str, topic: str, landing: Path) -> int:
    """Every landed line as one Kafka record, timestamped (in the morning of) its landing day."""
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20})
    sent = 0
    for folder in sorted((landing / "trips").glob("dt=*")):
        day = datetime.fromisoformat(folder.name[3:]).replace(hour=6, tzinfo=UTC)
        stamp = int(day.timestamp() * 1000)
        for csv in sorted(folder.glob("*.csv")):
            for line in csv.read_text().splitlines()[1:]:
                producer.produce(topic, value=line.encode(), timestamp=stamp)
                producer.poll(0)
                sent += 1
    assert producer.flush(60) == 0
    return sent


def test_a_stream_killed_mid_batch_restarts_without_loss_or_duplicates(
    landing: Path, tmp_path: Path, kafka_bootstrap: str, kafka_topic: object
) -> None:
    # The records carry their landing days' timestamps, weeks old: keep them past retention.
    topic = kafka_topic(config={"retention.ms": "-1"})  # type: ignore[operator]
    sent = produce(kafka_bootstrap, topic, landing)
    lake, checkpoint = tmp_path / "lake", tmp_path / "checkpoint"
    args = ["stream", "--until-caught-up", "--kafka-bootstrap", kafka_bootstrap]
    args += ["--kafka-topic", topic, "--checkpoint", str(checkpoint), "--source", str(landing)]
    args += ["--output", str(lake), "--max-offsets-per-trigger", "7000", "--master", "local[2]"]

    # Killed on its third batch, after staging it and before publishing it.
    killed = cli(*args, env=fault_env("stream.after_staging", 3))
    assert killed.returncode == -9, killed.stderr[-2000:]
    published_before = list(lake.glob("trips/date=*/b*.parquet"))
    assert published_before and (lake / "_staging").exists()

    summary = summary_of(cli(*args))

    want = expected(landing, *EVERY_DATE)
    trips = f"read_parquet('{lake}/trips/*/*.parquet', hive_partitioning = true)"
    ((rows, ids),) = duckdb.sql(f"SELECT count(*), count(DISTINCT trip_id) FROM {trips}").fetchall()
    assert rows == ids == want.trips
    by_date = dict(duckdb.sql(f"SELECT date, count(*) FROM {trips} GROUP BY 1").fetchall())
    assert by_date == want.trips_by_date
    quarantined = duckdb.sql(
        f"SELECT reason, count(*) FROM read_parquet('{lake}/quarantine/*/*.parquet') GROUP BY 1"
    ).fetchall()
    assert dict(quarantined) == want.reasons
    assert not list((lake / "_staging").iterdir())  # every staged batch was published
    # The restart picked up at the killed batch: it did not reread what was already published.
    assert summary["records_in"] < sent
    assert summary["batches"] >= 3
