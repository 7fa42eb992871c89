"""The event contract: what passes, what is poison, and why."""

from __future__ import annotations

from datetime import UTC, datetime

import fastjsonschema
import orjson
import pytest
from kafka_ingest.events import (
    InvalidEvent,
    _fast_ok,
    _validate,
    _wire_ok,
    parse_record,
    parse_value,
    to_record,
    validate,
)

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


MUTATIONS: list[tuple[str, object]] = [
    ("event_id", ""),
    ("event_id", "x" * 129),
    ("event_id", 7),
    ("key", None),
    ("key", "k" * 257),
    ("kind", "Click"),
    ("kind", "a" * 65),
    ("kind", "click-1"),
    ("kind", "click\n"),
    ("ts", "2026-01-01 00:00:00Z"),
    ("payload", []),
    ("payload", None),
    ("ts", "2026-02-30T00:00:00Z"),
    ("ts", "2026-01-01T24:00:00Z"),
    ("ts", "2026-01-01 00:00:00Z"),
    ("ts", "2026-01-01t00:00:00z"),
    ("ts", "2026-01-01T00:00:60Z"),
    ("ts", "2026-01-01T00:00:00"),
    ("ts", "2026-01-01T00:00:00.123456789+0530"),
    ("ts", "2024-02-29T23:59:59-23:59"),
]


@pytest.mark.parametrize(("field", "value"), MUTATIONS)
def test_fast_path_never_accepts_what_the_schema_rejects(field: str, value: object) -> None:
    event = {**GOOD, field: value}
    fast = _fast_ok(dict(event))
    try:
        _validate(dict(event))
        schema_ok = True
    except fastjsonschema.JsonSchemaException:
        schema_ok = False
    if fast is not None:
        assert schema_ok
    # The consumer's msgspec path, on the wire form of the same event.
    if _wire_ok(orjson.dumps(event)) is not None:
        assert schema_ok
    # And the public verdict is always the schema's (plus a parseable time).
    try:
        validate(dict(event))
        assert schema_ok
    except InvalidEvent:
        pass


def test_fast_path_takes_the_common_case() -> None:
    assert _fast_ok(dict(GOOD)) is not None
    assert _fast_ok({**GOOD, "extra": 1}) is None


@pytest.mark.parametrize(
    "value",
    [
        b'{"event_id":"a","key":"k","ts":"2026-01-01T00:00:00","kind":"a","payload":{}}',
        b'{"event_id":"a","key":"k","ts":"2026-01-01T00:00:00Z","kind":"a","payload":[1]}',
        b'{"event_id":"a","key":"k","ts":"2026-01-01T00:00:00Z","kind":"a","payload":{"x":"\xff"}}',
        b'{"event_id":"a","key":"k","ts":"2026-01-01T00:00:00Z","kind":"a\\n","payload":{}}',
    ],
)
def test_wire_path_rejects_what_msgspec_alone_would_let_through(value: bytes) -> None:
    assert _wire_ok(value) is None
    with pytest.raises(InvalidEvent):
        parse_record(value, "t", 0, 0)


def test_both_paths_build_the_same_record() -> None:
    value = orjson.dumps(GOOD)
    fast = parse_record(value, "t", 1, 5)
    slow = to_record(parse_value(value), value, "t", 1, 5)
    assert fast == slow
    assert fast.ts.tzinfo is not None and fast.ts.utcoffset() == slow.ts.utcoffset()
