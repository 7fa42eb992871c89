"""Checking many events at once: msgspec for the shape, Arrow for patterns, times and UTF-8.

The per-message path (events.parse_record) spends most of its time in two Python regexes; here the
same checks run once per batch in Arrow's C++ kernels. This path only ever *accepts*: an event it
is not sure about goes back through parse_record, which gives the verdict and the reason. Its
patterns are therefore stricter than the schema's (ASCII digits, upper-case T and Z, at most six
fraction digits, years 1001-9998 so no offset can overflow), and a unit test checks on a hostile
corpus that the two paths produce the same records and the same poison.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

import msgspec
import pyarrow as pa
import pyarrow.compute as pc

from kafka_ingest.events import DATE_TIME_PATTERN

# RE2 (Arrow) has no \Z; without the multi-line flag its $ means the end of the text.
KIND_RE2 = r"^[a-z][a-z0-9_.]{0,63}$"
SCHEMA_TS_RE2 = DATE_TIME_PATTERN.removesuffix(r"\Z") + "$"
STRICT_TS_RE2 = (
    r"^(?:100[1-9]|10[1-9]\d|1[1-9]\d\d|[2-8]\d{3}|9[0-8]\d\d|99[0-8]\d|999[0-8])"
    r"-\d\d-\d\dT\d\d:\d\d:[0-5]\d(?:\.\d{1,6})?(?:Z|[+-]\d\d:\d\d)$"
)
UTC_MICROS = pa.timestamp("us", tz="UTC")


class _Object(msgspec.Struct):
    """Any JSON object: msgspec checks the syntax and skips the fields without building them."""


class _Shape(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """The schema's structure and lengths; the patterns are checked per batch in Arrow."""

    event_id: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
    key: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
    ts: str
    kind: str
    payload: _Object


_SHAPE_DECODER: msgspec.json.Decoder[_Shape] = msgspec.json.Decoder(_Shape)
_decode_shape = _SHAPE_DECODER.decode  # bound once: this runs per message


def _shape(value: bytes | None) -> _Shape | None:
    if value is None:
        return None
    try:
        return _decode_shape(value)
    # RecursionError: msgspec gives up on ~1,000 levels of nesting; the full check decides.
    except (msgspec.ValidationError, msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        return None


def utf8(binary: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Binary data as strings without a copy (the bytes must be checked UTF-8 already).

    pa.array() returns a ChunkedArray once the data passes 2 GiB, which has no view().
    """
    if isinstance(binary, pa.ChunkedArray):
        return pa.chunked_array([c.view(pa.string()) for c in binary.chunks], pa.string())
    return binary.view(pa.string())


@dataclass
class Checked:
    """Columns of a batch of events; rows where `ok` is False were not accepted here."""

    ok: pa.BooleanArray
    event_id: list[str | None]
    key: list[str | None]
    kind: list[str | None]
    ts: pa.Array
    value: pa.Array

    @property
    def accepted(self) -> int:
        """How many rows this path accepted."""
        return int(pc.sum(self.ok).as_py() or 0)

    def rejected_rows(self) -> list[int]:
        """Indexes of the rows this path did not accept."""
        return [i for i, ok in enumerate(self.ok.to_pylist()) if not ok]


def _decodes(value: bytes) -> bool:
    try:
        value.decode()
    except UnicodeDecodeError:
        return False
    return True


def check_many(values: Sequence[bytes | None]) -> Checked:
    """Validate a batch of raw events; accepted rows get their fields and a UTC timestamp."""
    shapes = [_shape(v) for v in values]
    event_id = [s.event_id if s is not None else None for s in shapes]
    key = [s.key if s is not None else None for s in shapes]
    kind = [s.kind if s is not None else None for s in shapes]
    ts_text = pa.array([s.ts if s is not None else None for s in shapes], pa.string())
    binary = pa.array(values, pa.binary())  # chunked past 2 GiB
    # Rows msgspec refused are null here, and null & anything is null: fill_null makes them False.
    ok = pc.fill_null(
        pc.and_kleene(
            pc.and_kleene(
                pc.match_substring_regex(pa.array(kind, pa.string()), KIND_RE2),
                pc.match_substring_regex(ts_text, SCHEMA_TS_RE2),
            ),
            pc.match_substring_regex(ts_text, STRICT_TS_RE2),
        ),
        False,
    )
    try:
        utf8(binary).validate(full=True)
    except pa.ArrowInvalid:
        ok = pc.and_(ok, pa.array([v is not None and _decodes(v) for v in values], pa.bool_()))
    if pc.all(ok).as_py() is False:
        # Only rows that passed the patterns are parsed; the others become nulls.
        ts_text = pc.if_else(ok, ts_text, None)
    try:
        ts = pc.cast(ts_text, UTC_MICROS)
    except pa.ArrowInvalid:
        # Not expected after the patterns; if it happens, the per-message path decides every row.
        ok = pa.array([False] * len(values), pa.bool_())
        ts = pa.nulls(len(values), UTC_MICROS)
    return Checked(ok, event_id, key, kind, ts, binary)
