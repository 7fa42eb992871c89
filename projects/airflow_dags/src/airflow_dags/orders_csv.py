"""Stand-in transform: one interval's raw JSONL orders -> the CSV csv_to_postgres loads.

spark_etl's transform replaces this once its CLI has the per-date command daily_batch needs
(requested; see the README). Until then this keeps the chain whole: the last version of every
order in the partition (api_fetcher appends changes as new files, in run order), one CSV.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from de_common.durable import write_atomically
from de_common.inputs import Input, open_input

COLUMNS = ("id", "updated_at", "customer", "email", "amount", "status", "version")


@dataclass
class Staged:
    """What one staging pass read and kept."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    lines: int = 0
    empty: int = 0
    superseded: int = 0
    rejects: list[dict[str, Any]] = field(default_factory=list)


def latest_orders(inputs: Iterable[Input]) -> Staged:
    """Every order once, at its last version (inputs in run order), ordered by id."""
    staged = Staged()
    latest: dict[int, dict[str, Any]] = {}
    for item in inputs:
        with open_input(item) as stream:
            for number, raw in enumerate(stream, start=1):
                staged.lines += 1
                if not raw.strip():
                    staged.empty += 1
                    continue
                try:
                    record = json.loads(raw)
                    key = int(record["id"])
                except (ValueError, KeyError, TypeError) as exc:
                    reason = f"{type(exc).__name__}: {exc}"
                    staged.rejects.append({"input": item.path, "line": number, "reason": reason})
                    continue
                staged.superseded += key in latest
                latest[key] = record
    staged.rows = [latest[key] for key in sorted(latest)]
    return staged


def write_csv(rows: list[dict[str, Any]], target: Path) -> None:
    """The rows as one headered CSV; old or new file after a crash, never a mix."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_atomically(target, buffer.getvalue().encode("utf-8"))
