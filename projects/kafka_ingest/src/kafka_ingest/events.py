"""The event contract: JSON Schema validation and decoding of message values into records."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, NamedTuple

import fastjsonschema
import orjson

EVENT_SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "event",
    "type": "object",
    "required": ["event_id", "key", "ts", "kind", "payload"],
    "additionalProperties": False,
    "properties": {
        "event_id": {"type": "string", "minLength": 1, "maxLength": 128},
        "key": {"type": "string", "minLength": 1, "maxLength": 256},
        "ts": {"type": "string", "format": "date-time"},
        "kind": {"type": "string", "pattern": "^[a-z][a-z0-9_.]{0,63}$"},
        "payload": {"type": "object"},
    },
}

_validate = fastjsonschema.compile(EVENT_SCHEMA)


class Record(NamedTuple):
    """A valid event plus where it came from in Kafka."""

    event_id: str
    key: str
    ts: datetime
    kind: str
    # The event exactly as received (JSON text): no re-serialisation on the hot path.
    value: str
    topic: str
    partition: int
    offset: int


class InvalidEvent(ValueError):
    """The event broke the contract; the message says how."""


_FIELDS = frozenset(EVENT_SCHEMA["required"])
_KIND = re.compile(EVENT_SCHEMA["properties"]["kind"]["pattern"])
_TS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)")


def _fast_ok(event: object) -> datetime | None:
    """A stricter-or-equal check than the schema for the common, valid case; None = not sure.

    Every event it accepts the JSON Schema accepts too (tests check this on mutated events);
    anything else goes through the full schema validator, which gives the verdict and the reason.
    """
    if type(event) is not dict or event.keys() != _FIELDS:
        return None
    event_id, key, ts, kind = event["event_id"], event["key"], event["ts"], event["kind"]
    if not (
        type(event_id) is str
        and 0 < len(event_id) <= 128
        and type(key) is str
        and 0 < len(key) <= 256
        and type(kind) is str
        and _KIND.match(kind)
        and type(event["payload"]) is dict
        and type(ts) is str
        and _TS.fullmatch(ts)
    ):
        return None
    try:
        return datetime.fromisoformat(ts)
    except ValueError:
        return None


def validate(event: object) -> dict[str, Any]:
    """Check one decoded event against the schema and return it with a parsed, UTC timestamp."""
    ts = _fast_ok(event)
    if ts is None:
        try:
            checked: dict[str, Any] = _validate(event)
        except fastjsonschema.JsonSchemaException as exc:
            raise InvalidEvent(f"schema: {exc}") from None
        try:
            ts = datetime.fromisoformat(checked["ts"])
        except ValueError:
            raise InvalidEvent(
                f"schema: data.ts is not an ISO-8601 time: {checked['ts']!r}"
            ) from None
    else:
        checked = event  # type: ignore[assignment]
    checked["ts"] = ts.astimezone(UTC)
    return checked


def parse_value(value: bytes | None) -> dict[str, Any]:
    """Decode and validate one message value; InvalidEvent says why it is poison."""
    if value is None:
        raise InvalidEvent("decode: empty message value (tombstone)")
    try:
        event = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise InvalidEvent(f"decode: not JSON: {exc}") from None
    return validate(event)


def to_record(
    event: dict[str, Any], value: bytes, topic: str, partition: int, offset: int
) -> Record:
    """A validated event as the row the sinks store."""
    return Record(
        event["event_id"],
        event["key"],
        event["ts"],
        event["kind"],
        value.decode(),
        topic,
        partition,
        offset,
    )
