"""From a page's body to checked records: where they are, their key, content hash, cursor and date,
and whether they match the endpoint's JSON Schema (fastjsonschema, compiled once)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import fastjsonschema

from api_fetcher.client import PageError
from api_fetcher.spec import Endpoint
from de_common.errors import UserError


def dig(body: Any, path: str | None) -> Any:
    """The value at a dotted path (`data.items`, `meta.0.total`); None when a step is missing."""
    if path is None or path == "":
        return body
    value = body
    for step in path.split("."):
        if isinstance(value, dict):
            value = value.get(step)
        elif isinstance(value, list) and step.isdigit() and int(step) < len(value):
            value = value[int(step)]
        else:
            return None
    return value


def page_records(body: Any, path: str | None) -> list[Any]:
    """The records of a page (an object there is one record); anything else is a PageError."""
    found = dig(body, path)
    if isinstance(found, dict):
        return [found]
    if not isinstance(found, list):
        where = f"at {path!r}" if path else "as the body"
        raise PageError(f"no list of records {where} (found {type(found).__name__})")
    return found


@dataclass(frozen=True)
class Record:
    """A valid record with what the sinks and the state need from it."""

    key: tuple[str, ...]
    data: dict[str, Any]
    digest: str
    cursor: Any
    day: str


@dataclass(frozen=True)
class Rejected:
    data: Any
    reason: str


def _day(value: Any, fallback: str) -> str:
    """YYYY-MM-DD of an ISO date(time) string or a Unix time; `fallback` for anything else."""
    if isinstance(value, str) and len(value) >= 10 and value[4] == "-" and value[7] == "-":
        day = value[:10]
        if day[:4].isdigit() and day[5:7].isdigit() and day[8:10].isdigit():
            return day
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value < 4e10:
        return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d")
    return fallback


def digest(data: Any) -> str:
    """A stable content hash: the same record gives the same digest whatever its key order."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


class Checker:
    """Turns an endpoint's raw records into `Record`s or `Rejected`s with the reason."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.key_fields = endpoint.primary_key
        self.cursor_field = endpoint.incremental.cursor_field if endpoint.incremental else None
        self.partition_by = endpoint.partition_by
        self.today = datetime.now(UTC).strftime("%Y-%m-%d")
        self._validate: Callable[[Any], Any] | None = None
        if endpoint.record_schema is not None:
            try:
                self._validate = fastjsonschema.compile(endpoint.record_schema)
            except fastjsonschema.JsonSchemaDefinitionException as exc:
                raise UserError(f"endpoint {endpoint.name}: invalid schema: {exc}") from None

    def check(self, raw: Any) -> Record | Rejected:
        if not isinstance(raw, dict):
            return Rejected(raw, f"not an object: {type(raw).__name__}")
        key = []
        for name in self.key_fields:
            value = raw.get(name)
            if value is None or isinstance(value, dict | list):
                return Rejected(raw, f"primary key {name!r} missing or not a scalar")
            key.append(str(value))
        if self._validate is not None:
            try:
                self._validate(raw)
            except fastjsonschema.JsonSchemaValueException as exc:
                return Rejected(raw, f"schema: {exc.message}")
        cursor = raw.get(self.cursor_field) if self.cursor_field else None
        day = _day(raw.get(self.partition_by), self.today) if self.partition_by else self.today
        return Record(tuple(key), raw, digest(raw), cursor, day)


def later(a: Any, b: Any) -> Any:
    """The larger of two cursor values (None loses); values of different types keep `a`."""
    if b is None:
        return a
    if a is None:
        return b
    try:
        return b if b > a else a
    except TypeError:
        return a
