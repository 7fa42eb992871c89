"""Incremental state: per source one JSON file with, per endpoint, the cursor of the last durable
write and the length of its quarantine file at that moment.

A save writes a temporary file, fsyncs it, renames it over the old one and fsyncs the folder: a
crash leaves the old state or the new one, never half of one. A per-source lock file (flock) keeps
two processes from running the same source at once.
"""

from __future__ import annotations

import fcntl
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from de_common.durable import write_atomically
from de_common.errors import JobError, UserError


@dataclass
class EndpointState:
    cursor: Any = None
    quarantine_bytes: int = 0
    saved_at: str | None = None


@dataclass
class SourceState:
    endpoints: dict[str, EndpointState] = field(default_factory=dict)
    last_success: str | None = None


class SourceBusy(JobError):
    """Another process is running this source."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class StateStore:
    """The state file of one source; endpoints save concurrently, each save is atomic."""

    def __init__(self, folder: Path, source: str) -> None:
        self.path = folder / f"{source}.json"
        self._lock = threading.Lock()
        self.state = self._load()

    def _load(self) -> SourceState:
        if not self.path.exists():
            return SourceState()
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            endpoints = {k: EndpointState(**v) for k, v in data.get("endpoints", {}).items()}
            return SourceState(endpoints, data.get("last_success"))
        except (ValueError, TypeError, AttributeError) as exc:
            raise UserError(
                f"state file {self.path} is unreadable ({exc}); fix or remove it"
            ) from None

    def get(self, endpoint: str) -> EndpointState:
        with self._lock:
            saved = self.state.endpoints.get(endpoint, EndpointState())
            return EndpointState(**asdict(saved))

    def save(self, endpoint: str, value: EndpointState) -> None:
        with self._lock:
            value.saved_at = _now()
            self.state.endpoints[endpoint] = value
            self._write()

    def mark_success(self) -> None:
        with self._lock:
            self.state.last_success = _now()
            self._write()

    def _write(self) -> None:
        write_atomically(self.path, json.dumps(asdict(self.state), indent=2, default=str) + "\n")


@contextmanager
def source_lock(folder: Path, source: str) -> Iterator[None]:
    """Hold the source's lock file for the length of a run; a held lock is SourceBusy."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{source}.lock"
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SourceBusy(f"source {source} is already running (lock {path})") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read_all(folder: Path) -> dict[str, Any]:
    """Every source's saved state, for the `state` command."""
    found: dict[str, Any] = {}
    for path in sorted(folder.glob("*.json")):
        found[path.stem] = asdict(StateStore(folder, path.stem).state)
    return found
