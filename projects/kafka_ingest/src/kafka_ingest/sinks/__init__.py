"""Durable, idempotent destinations for consumed records."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from kafka_ingest.batch import Batch


@dataclass
class WriteResult:
    """How many records a write stored and how many it already had."""

    written: int = 0
    duplicates: int = 0


class Sink(Protocol):
    """Written once per batch, before offsets are committed; must tolerate the same batch twice."""

    name: str

    def assigned(self, topic: str, partitions: Sequence[int]) -> dict[int, int]:
        """Recover after (re)assignment; return partitions whose resume offset the sink knows."""
        ...

    def write(self, batch: Batch) -> WriteResult:
        """Store a batch durably; return once it would survive a crash."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
