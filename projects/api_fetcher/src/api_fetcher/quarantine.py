"""Invalid records and failed pages, one JSON line each with the reason, per source and endpoint.

The file's length is saved with the endpoint's state after every durable write; a run first cuts
the file back to that length, so the rejects of a crashed run's unsaved tail, which the rerun meets
again, are written once.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any


class Quarantine:
    """Appends rejects for one endpoint; `sync()` makes them durable and returns the length."""

    def __init__(self, folder: Path, source: str, endpoint: str, saved_bytes: int) -> None:
        self.path = folder / source / f"{endpoint}.jsonl"
        self.source = source
        self.endpoint = endpoint
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._out: IO[str] = self.path.open("a+", encoding="utf-8")
        if self._out.seek(0, os.SEEK_END) > saved_bytes:
            self._out.truncate(saved_bytes)
            self._out.seek(saved_bytes)
        self.records = 0
        self.pages = 0

    def _write(self, entry: dict[str, Any]) -> None:
        at = datetime.now(UTC).isoformat(timespec="seconds")
        head = {"at": at, "source": self.source, "endpoint": self.endpoint}
        self._out.write(json.dumps({**head, **entry}, default=str) + "\n")

    def record(self, data: Any, reason: str, page: str) -> None:
        self.records += 1
        self._write({"kind": "record", "reason": reason, "page": page, "record": data})

    def page(self, page: str, reason: str, status: int | None, snippet: str) -> None:
        self.pages += 1
        entry = {"kind": "page", "reason": reason, "page": page, "status": status}
        self._write({**entry, "body_start": snippet})

    def sync(self) -> int:
        self._out.flush()
        os.fsync(self._out.fileno())
        return self._out.tell()

    def close(self) -> None:
        self._out.close()
