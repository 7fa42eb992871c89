"""Durable, idempotent destinations: JSONL or Parquet files partitioned by date (the embedded
default), or PostgreSQL. A write is durable when it returns and may be repeated: a record whose key
and content the sink already holds is a duplicate, never a second copy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from api_fetcher.config import ApiFetcherSettings
from api_fetcher.records import Record
from api_fetcher.spec import Endpoint


@dataclass
class WriteResult:
    """Stored now (new or changed), of which changed, and already held (skipped)."""

    written: int = 0
    updated: int = 0
    duplicates: int = 0


class Sink(Protocol):
    """Where one endpoint's records go."""

    def write(self, records: Sequence[Record]) -> WriteResult:
        """Store the records durably; every record is written or counted as a duplicate."""
        ...

    def close(self) -> None: ...


class Destination(Protocol):
    """One per run: opens a sink per endpoint, shares connections between them."""

    def open(self, source: str, endpoint: Endpoint) -> Sink: ...

    def close(self) -> None: ...


def collapse(records: Sequence[Record]) -> tuple[list[Record], int]:
    """One record per key, the last version kept; returns them and how many were dropped."""
    latest: dict[tuple[str, ...], Record] = {}
    for record in records:
        latest.pop(record.key, None)  # re-insert so the order is that of the last version
        latest[record.key] = record
    return list(latest.values()), len(records) - len(latest)


def destination(settings: ApiFetcherSettings) -> Destination:
    """The configured sink family."""
    if settings.sink == "postgres":
        from api_fetcher.sinks.postgres import PostgresDestination

        return PostgresDestination(settings)
    from api_fetcher.sinks.files import FileDestination

    return FileDestination(settings.output_dir, settings.sink)
