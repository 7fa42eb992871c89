"""Incremental state: which file content was read up to which offset."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from de_common.durable import write_atomically
from de_common.errors import UserError
from log_analyzer.sources import fingerprint


@dataclass
class FileState:
    """One file as last seen: content identity (fingerprint of its head), inode, offset, lines."""

    fingerprint: str
    fp_len: int
    dev: int
    ino: int
    offset: int
    lines: int
    path: str


@dataclass(frozen=True)
class Observed:
    """A file as found now: path, first bytes (decompressed), device, inode, size (None when
    compressed: the size on disk says nothing about the offset in the content)."""

    path: str
    head: bytes
    dev: int
    ino: int
    size: int | None


@dataclass
class Resume:
    """Where to start reading a file, and why."""

    offset: int
    lines: int
    event: str  # new | resumed | rotated | truncated | replaced


def load_state(path: Path) -> list[FileState]:
    """The saved entries; a missing file is an empty state, a corrupt one a usage error."""
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text())
        return [FileState(**e) for e in data["files"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise UserError(
            f"state file {path} is unreadable ({exc}); delete it to start over"
        ) from None


def save_state(path: Path, entries: list[FileState]) -> None:
    """Write atomically so a crash leaves the old state or the new one, never half of one."""
    write_atomically(
        path, json.dumps({"version": 1, "files": [asdict(e) for e in entries]}, indent=1)
    )


def resume_point(seen: Observed, entries: list[FileState]) -> tuple[Resume, FileState | None]:
    """Match a file to a saved entry by content; detect truncation and replacement by inode."""
    for e in entries:
        if len(seen.head) >= e.fp_len and fingerprint(seen.head[: e.fp_len]) == e.fingerprint:
            if seen.size is not None and seen.size < e.offset:
                return Resume(0, 0, "truncated"), e
            moved = (e.dev, e.ino) != (seen.dev, seen.ino) or e.path != seen.path
            return Resume(e.offset, e.lines, "rotated" if moved else "resumed"), e
    for e in entries:
        if (e.dev, e.ino) == (seen.dev, seen.ino) and e.path == seen.path:
            return Resume(0, 0, "replaced"), None
    return Resume(0, 0, "new"), None
