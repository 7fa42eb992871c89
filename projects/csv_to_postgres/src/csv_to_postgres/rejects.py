"""Rows that did not make it: where they came from and why."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal


@dataclass(frozen=True)
class Reject:
    """One refused (or duplicate) record."""

    file: str
    line: int
    raw: str | None
    reason: str
    kind: Literal["rejected", "duplicate"] = "rejected"


def write_csv(path: Path, rejects: Iterable[Reject]) -> int:
    """Append rejects to a CSV (header written when the file is new); returns how many."""
    new = not path.exists() or path.stat().st_size == 0
    n = 0
    with path.open("a", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        if new:
            out.writerow(["file", "line", "kind", "reason", "raw"])
        for r in rejects:
            out.writerow([r.file, r.line, r.kind, r.reason, r.raw])
            n += 1
    return n
