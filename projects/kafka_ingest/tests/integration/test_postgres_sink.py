"""The PostgreSQL sink against a real server: upsert on event id, duplicates counted."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from kafka_ingest.batch import Batch
from kafka_ingest.events import Record
from kafka_ingest.sinks.postgres_table import PostgresSink

from de_common.errors import JobError, ServiceUnavailable

from .conftest import pg_execute

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
    [(count, distinct)] = pg_execute(
        pg_database, "SELECT count(*), count(DISTINCT event_id) FROM events"
    )
    payload = pg_execute(pg_database, "SELECT payload->>'i' FROM events WHERE event_id = 'e7'")
    assert (count, distinct) == (150, 150)
    assert payload == [("7",)]


def test_duplicates_inside_one_batch_are_one_row(pg_database: str) -> None:
    sink = PostgresSink(pg_database, "dupes")
    result = sink.write(Batch(rows(range(0, 5)) + rows(range(0, 5), offset_base=5)))
    assert (result.written, result.duplicates) == (5, 5)
    sink.close()


def test_copy_keeps_backslashes_tabs_and_newlines(pg_database: str) -> None:
    # Valid JSON may hold raw tabs and newlines between tokens and backslashes in its strings:
    # COPY's text format must escape all of them, or rows shift or change.
    value = '{"event_id": "x",\n\t"payload": {"path": "C:\\\\temp\\\\new", "s": "a\\tb"}}'
    record = Record(
        "x", "k\\ey\tz", datetime(2026, 1, 1, tzinfo=UTC), "click", value.encode(), "t", 0, 0
    )
    sink = PostgresSink(pg_database, "escapes")
    assert sink.write(Batch([record])).written == 1
    sink.close()
    rows = pg_execute(pg_database, "SELECT key, payload->>'path', payload->>'s' FROM escapes")
    assert rows == [("k\\ey\tz", "C:\\temp\\new", "a\tb")]


def test_a_refused_batch_is_one_line_and_rolled_back(pg_database: str) -> None:
    sink = PostgresSink(pg_database, "refused")
    pg_execute(pg_database, "ALTER TABLE refused ADD CHECK (kind <> 'click')")
    with pytest.raises(JobError, match=r"postgres sink refused the batch: .*check constraint"):
        sink.write(Batch(rows(range(0, 3))))
    pg_execute(pg_database, "ALTER TABLE refused DROP CONSTRAINT refused_kind_check")
    # The connection is usable again and nothing of the refused batch was kept.
    assert sink.write(Batch(rows(range(0, 3)))).written == 3
    sink.close()


def test_unreachable_database_names_the_address_not_the_password() -> None:
    with pytest.raises(ServiceUnavailable) as info:
        PostgresSink("postgresql://u:topsecret@127.0.0.1:1/db")
    assert "127.0.0.1:1/db" in str(info.value)
    assert "topsecret" not in str(info.value)
