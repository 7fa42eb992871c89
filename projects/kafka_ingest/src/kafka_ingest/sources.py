"""Where the producer's events come from: JSONL or CSV files (plain, gzip, bz2, zip; paths, globs,
folders, stdin through de_common.inputs), or a seeded generator."""

from __future__ import annotations

import csv
import io
import random
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any, NamedTuple

import orjson

from de_common.errors import UserError
from de_common.inputs import Input, expand_inputs, open_input
from kafka_ingest.events import InvalidEvent, check, check_raw

COMPRESSED_SUFFIXES = (".gz", ".bz2", ".zip")


class SourceItem(NamedTuple):
    """One input record: its raw bytes, the decoded event (or why it could not be), and its origin."""

    origin: str
    raw: bytes
    # The decoded event, or None when only the raw bytes are known yet (JSONL).
    event: Any
    error: str | None = None

    def problem(self) -> str | None:
        """Why this is not a valid event, or None: the producer's verdict (its hot loop inlines it)."""
        if self.error is not None:
            return self.error
        try:
            if self.event is None:
                check_raw(self.raw)
            else:
                check(self.event)
        except InvalidEvent as exc:
            return str(exc)
        return None


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


def format_of(path: str, fmt: str = "auto") -> str:
    """jsonl or csv; auto: csv when the name, less a compression suffix, ends in .csv."""
    if fmt != "auto":
        return fmt
    name = path.lower()
    for suffix in COMPRESSED_SUFFIXES:
        name = name.removesuffix(suffix)
    return "csv" if name.endswith(".csv") else "jsonl"


def open_source(specs: Sequence[str], fmt: str = "auto") -> Iterator[SourceItem]:
    """The items of every input (paths, globs, folders, '-' for stdin; compression read from the
    content) in the given format: jsonl, csv or auto. The inputs are looked up now: a name or
    pattern that finds nothing raises UserError before anything is read or any broker is asked."""
    return _read(expand_inputs(specs), fmt)


def _read(inputs: list[Input], fmt: str) -> Iterator[SourceItem]:
    for item in inputs:
        reader = read_csv if format_of(item.path, fmt) == "csv" else read_jsonl
        stream = open_input(item)
        try:
            yield from reader(stream, "stdin" if item.is_stdin else Path(item.path).name)
        finally:
            if not item.is_stdin:
                stream.close()


@dataclass(frozen=True)
class Generated:
    """What `produce --generate N` asks for: N seeded events, every Nth made invalid on purpose."""

    count: int
    seed: int = 42
    keys: int = 50
    invalid_every: int = 0
    pad_bytes: int = 0

    def items(self) -> Iterator[SourceItem]:
        """The events, the same ones for the same fields."""
        return generate(
            self.count,
            seed=self.seed,
            keys=self.keys,
            invalid_every=self.invalid_every,
            pad_bytes=self.pad_bytes,
        )


EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def generate(
    count: int,
    *,
    seed: int = 42,
    keys: int = 50,
    invalid_every: int = 0,
    pad_bytes: int = 0,
    span_hours: float = 3.0,
    scattered: bool = False,
) -> Iterator[SourceItem]:
    """Deterministic events; every key carries its own increasing `seq` so ordering is checkable.

    Times rise evenly over `span_hours`, or with `scattered` fall anywhere in them, in no order
    (a replay of a month, late data).
    """
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    # Its own generator: the same seed gives the same ids and payloads either way.
    times = random.Random(seed + 1)  # noqa: S311
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
            "ts": (EPOCH + step * (times.randrange(count) if scattered else i))
            .isoformat()
            .replace("+00:00", "Z"),
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
