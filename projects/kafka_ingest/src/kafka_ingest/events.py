"""The event contract: JSON Schema validation and decoding of message values into records."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, NamedTuple

import fastjsonschema
import msgspec
import orjson
from fastjsonschema.draft04 import CodeGeneratorDraft04

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
_ZERO = timedelta(0)


class Record(NamedTuple):
    """A valid event plus where it came from in Kafka."""

    event_id: str
    key: str
    ts: datetime
    kind: str
    # The event exactly as received (UTF-8 JSON, checked by the decoder): never re-serialised.
    value: bytes
    topic: str
    partition: int
    offset: int


class InvalidEvent(ValueError):
    """The event broke the contract; the message says how."""


_FIELDS = frozenset(EVENT_SCHEMA["required"])
# JSON Schema's `$` means end of string; Python's also matches before a final newline: use \Z.
KIND_PATTERN = EVENT_SCHEMA["properties"]["kind"]["pattern"].removesuffix("$") + "\\Z"
# The exact regex fastjsonschema checks `format: date-time` with.
DATE_TIME_PATTERN: str = CodeGeneratorDraft04.FORMAT_REGEXS["date-time"]
_KIND = re.compile(KIND_PATTERN)
_TS = re.compile(DATE_TIME_PATTERN)


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
        and _TS.match(ts)
    ):
        return None
    try:
        return datetime.fromisoformat(ts)
    except ValueError:
        return None


def _utc_instant(text: str) -> datetime | None:
    """The UTC instant of an ISO-8601 time, None if Python cannot parse or hold it."""
    try:
        ts = datetime.fromisoformat(text)
        return ts if ts.utcoffset() == _ZERO else ts.astimezone(UTC)
    except (ValueError, OverflowError):
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
    try:
        checked["ts"] = ts.astimezone(UTC)
    except OverflowError:
        # 0001-01-01T00:00:00+01:00 is a valid date-time whose UTC instant Python cannot hold.
        raise InvalidEvent(
            f"schema: data.ts is out of range once converted to UTC: {checked['ts']!r}"
        ) from None
    return checked


def check(event: object) -> str:
    """Validate without converting anything; return the event's key (the producer's need)."""
    if _fast_ok(event) is None:
        validate(event)
    return event["key"]  # type: ignore[index,no-any-return]


def check_raw(value: bytes) -> str:
    """Validate an undecoded event (the producer's JSONL path); return its key."""
    wire = _wire_ok(value)
    if wire is not None and _utc_instant(wire.ts) is not None:
        return wire.key
    return parse_value(value)["key"]  # type: ignore[no-any-return]


def parse_value(value: bytes | None) -> dict[str, Any]:
    """Decode and validate one message value; InvalidEvent says why it is poison."""
    if value is None:
        raise InvalidEvent("decode: empty message value (tombstone)")
    try:
        event = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise InvalidEvent(f"decode: not JSON: {exc}") from None
    return validate(event)


class _Wire(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """The schema's shape for msgspec: decodes and checks lengths in C, the payload left unparsed.

    The two patterns are checked in _wire_ok instead: msgspec calls Python's re for them, which
    cost as much as the whole decode of a 1 KiB event.
    """

    event_id: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
    key: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
    ts: str
    kind: str
    payload: msgspec.Raw


# Annotated so the decoded type is known whatever msgspec's stubs infer (0.23 changed them).
_WIRE_DECODER: msgspec.json.Decoder[_Wire] = msgspec.json.Decoder(_Wire)
_decode_wire = _WIRE_DECODER.decode  # bound once: this runs per message
_BRACE = ord("{")
# Kinds already seen to match the pattern: a handful in practice, a bounded set whatever comes.
_KNOWN_KINDS: set[str] = set()
_KNOWN_KINDS_MAX = 1024


def _kind_ok(kind: str) -> bool:
    if kind in _KNOWN_KINDS:
        return True
    if _KIND.match(kind) is None:
        return False
    if len(_KNOWN_KINDS) < _KNOWN_KINDS_MAX:
        _KNOWN_KINDS.add(kind)
    return True


def _wire_ok(value: bytes) -> _Wire | None:
    """The consumer's fast path; like _fast_ok it only ever accepts what the schema accepts."""
    try:
        wire = _decode_wire(value)
    # RecursionError: msgspec gives up on ~1,000 levels of nesting; orjson and the schema decide.
    except (msgspec.ValidationError, msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        return None
    if not _kind_ok(wire.kind) or _TS.match(wire.ts) is None:
        return None
    # msgspec takes any JSON as payload and skips UTF-8 checks inside Raw; the schema (and the
    # Parquet writer) do not.
    if memoryview(wire.payload)[0] != _BRACE:
        return None
    if not value.isascii():
        try:
            value.decode()
        except UnicodeDecodeError:
            return None
    return wire


def parse_record(value: bytes | None, topic: str, partition: int, offset: int) -> Record:
    """Decode, validate and wrap one message value; InvalidEvent says why it is poison."""
    if value is None:
        raise InvalidEvent("decode: empty message value (tombstone)")
    wire = _wire_ok(value)
    if wire is not None:
        ts = _utc_instant(wire.ts)
        if ts is not None:
            return Record(wire.event_id, wire.key, ts, wire.kind, value, topic, partition, offset)
    return to_record(parse_value(value), value, topic, partition, offset)


def to_record(
    event: dict[str, Any], value: bytes, topic: str, partition: int, offset: int
) -> Record:
    """A validated event as the row the sinks store."""
    return Record(
        event["event_id"],
        event["key"],
        event["ts"],
        event["kind"],
        value,
        topic,
        partition,
        offset,
    )
