"""The event contract: what passes, what is poison, and why."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest
from kafka_ingest.events import InvalidEvent, parse_value, to_record, validate

GOOD = {
    "event_id": "e-1",
    "key": "user-1",
    "ts": "2026-01-01T10:15:00+01:00",
    "kind": "click",
    "payload": {"seq": 1},
}


def test_valid_event_gets_a_utc_timestamp() -> None:
    event = validate(dict(GOOD))
    assert event["ts"] == datetime(2026, 1, 1, 9, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"kind": None}, "kind"),
        ({"payload": "text"}, "payload"),
        ({"ts": "yesterday"}, "ts"),
        ({"event_id": ""}, "event_id"),
        ({"extra": 1}, "extra"),
    ],
)
def test_invalid_events_name_the_problem(change: dict[str, object], reason: str) -> None:
    event = {**GOOD, **change}
    if change.get("kind", 0) is None:
        del event["kind"]
    with pytest.raises(InvalidEvent, match=reason):
        validate(event)


@pytest.mark.parametrize(
    ("value", "reason"),
    [(None, "tombstone"), (b"\xff\xfe", "not JSON"), (b"[1, 2]", "schema")],
)
def test_undecodable_values_are_poison(value: bytes | None, reason: str) -> None:
    with pytest.raises(InvalidEvent, match=reason):
        parse_value(value)


def test_record_keeps_kafka_coordinates_and_payload_json() -> None:
    value = orjson.dumps(GOOD)
    record = to_record(parse_value(value), value, "t", 2, 17)
    assert (record.topic, record.partition, record.offset) == ("t", 2, 17)
    assert orjson.loads(record.value) == GOOD
