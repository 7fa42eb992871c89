"""The PostgreSQL sink against a real server: upsert on event id, duplicates counted."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
import pytest
from kafka_ingest.batch import Batch
from kafka_ingest.events import Record
from kafka_ingest.sinks.postgres_table import PostgresSink

from de_common.errors import ServiceUnavailable

pytestmark = pytest.mark.integration


def rows(ids: range, offset_base: int = 0) -> list[Record]:
    ts = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        Record(
            f"e{i}",
            "k",
            ts,
            "click",
            f'{{"event_id": "e{i}", "payload": {{"i": {i}}}}}'.encode(),
            "t",
            0,
            offset_base + i,
        )
        for i in ids
    ]


def test_rewrites_and_overlaps_never_double_count(pg_database: str) -> None:
    sink = PostgresSink(pg_database, "events")
    assert sink.write(Batch(rows(range(0, 100)))).written == 100
    again = sink.write(Batch(rows(range(50, 150))))
    assert (again.written, again.duplicates) == (50, 50)
    # The same event at another offset (a producer re-run) is still one row.
    moved = sink.write(Batch(rows(range(0, 10), offset_base=1000)))
    assert (moved.written, moved.duplicates) == (0, 10)
    sink.close()
    with psycopg.connect(pg_database) as conn:
        count, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT event_id) FROM events"
        ).fetchone()  # type: ignore[misc]
        payload = conn.execute("SELECT payload->>'i' FROM events WHERE event_id = 'e7'").fetchone()
    assert (count, distinct) == (150, 150)
    assert payload == ("7",)


def test_duplicates_inside_one_batch_are_one_row(pg_database: str) -> None:
    sink = PostgresSink(pg_database, "dupes")
    result = sink.write(Batch(rows(range(0, 5)) + rows(range(0, 5), offset_base=5)))
    assert (result.written, result.duplicates) == (5, 5)
    sink.close()


def test_unreachable_database_names_the_address_not_the_password() -> None:
    with pytest.raises(ServiceUnavailable) as info:
        PostgresSink("postgresql://u:topsecret@127.0.0.1:1/db")
    assert "127.0.0.1:1/db" in str(info.value)
    assert "topsecret" not in str(info.value)
