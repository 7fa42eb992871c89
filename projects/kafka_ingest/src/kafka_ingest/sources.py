"""Where the producer's events come from: JSONL or CSV files, stdin, or a seeded generator."""

from __future__ import annotations

import csv
import io
import random
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any, NamedTuple

import orjson

from de_common.errors import UserError


class SourceItem(NamedTuple):
    """One input record: its raw bytes, the decoded event (or why it could not be), and its origin."""

    origin: str
    raw: bytes
    # The decoded event, or None when only the raw bytes are known yet (JSONL).
    event: Any
    error: str | None = None


def read_jsonl(stream: IO[bytes], name: str) -> Iterator[SourceItem]:
    """One event per line, left undecoded (event=None): the producer decodes and validates at once."""
    for number, line in enumerate(stream, start=1):
        raw = line.strip()
        if raw:
            yield SourceItem(f"{name}:{number}", raw, None)


def read_csv(stream: IO[bytes], name: str) -> Iterator[SourceItem]:
    """A header row naming event_id,key,ts,kind; a `payload` column holds JSON, other columns join it."""
    text = io.TextIOWrapper(stream, encoding="utf-8", newline="")
    reader = csv.DictReader(text)
    fields = reader.fieldnames or []
    missing = {"event_id", "key", "ts", "kind"} - set(fields)
    if missing:
        raise UserError(f"{name}: CSV header lacks {', '.join(sorted(missing))}")
    for number, row in enumerate(reader, start=2):
        origin = f"{name}:{number}"
        raw = orjson.dumps(row)
        try:
            payload = orjson.loads(row["payload"]) if row.get("payload") else {}
        except orjson.JSONDecodeError as exc:
            yield SourceItem(origin, raw, None, f"decode: payload column is not JSON: {exc}")
            continue
        if isinstance(payload, dict):
            for column, value in row.items():
                if column not in {"event_id", "key", "ts", "kind", "payload"} and column:
                    payload[column] = value
        event = {k: row[k] for k in ("event_id", "key", "ts", "kind")} | {"payload": payload}
        yield SourceItem(origin, orjson.dumps(event), event)


def open_source(path: str, fmt: str) -> Iterator[SourceItem]:
    """Read a file (or '-' for stdin) in the given format: jsonl or csv (auto from the suffix)."""
    if fmt == "auto":
        fmt = "csv" if path.endswith(".csv") else "jsonl"
    reader = read_csv if fmt == "csv" else read_jsonl
    if path == "-":
        yield from reader(sys.stdin.buffer, "stdin")
        return
    file = Path(path)
    if not file.is_file():
        raise UserError(f"input file not found: {path}")
    with file.open("rb") as stream:
        yield from reader(stream, file.name)


EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def generate(
    count: int,
    *,
    seed: int = 42,
    keys: int = 50,
    invalid_every: int = 0,
    pad_bytes: int = 0,
    span_hours: float = 3.0,
) -> Iterator[SourceItem]:
    """Deterministic events; every key carries its own increasing `seq` so ordering is checkable."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    seqs: dict[str, int] = {}
    step = timedelta(hours=span_hours) / max(count, 1)
    pad = "x" * pad_bytes
    for i in range(count):
        key = f"user-{rng.randrange(keys):04d}"
        seq = seqs.get(key, 0)
        seqs[key] = seq + 1
        event: dict[str, Any] = {
            "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "key": key,
            "ts": (EPOCH + step * i).isoformat().replace("+00:00", "Z"),
            "kind": rng.choice(("page_view", "click", "purchase")),
            "payload": {"seq": seq, "amount": rng.randrange(1, 10_000) / 100},
        }
        if pad_bytes:
            event["payload"]["pad"] = pad
        if invalid_every and i % invalid_every == invalid_every - 1:
            # A realistic mix of broken events: a missing field, a bad time, a wrong type.
            broken = i // invalid_every % 3
            if broken == 0:
                del event["kind"]
            elif broken == 1:
                event["ts"] = "yesterday"
            else:
                event["payload"] = "not-an-object"
        raw = orjson.dumps(event)
        yield SourceItem(f"generator:{i}", raw, event)
