"""The record contract of the orders source: what is valid, and why a record is not."""

from __future__ import annotations

import gzip
import json
from datetime import datetime
from typing import Any

REQUIRED: dict[str, type | tuple[type, ...]] = {
    "id": int,
    "updated_at": str,
    "customer": str,
    "amount": (int, float),
}


def problem(record: Any) -> str | None:
    """Why the record breaks the contract, or None when it is valid."""
    if not isinstance(record, dict):
        return f"not an object: {type(record).__name__}"
    for name, kind in REQUIRED.items():
        value = record.get(name)
        if value is None:
            return f"missing {name}"
        # bool is an int subclass; an id or amount of true is still wrong.
        if isinstance(value, bool) or not isinstance(value, kind):
            return f"{name} has the wrong type: {value!r}"
    try:
        datetime.fromisoformat(record["updated_at"].replace("Z", "+00:00"))
    except ValueError:
        return f"updated_at is not ISO 8601: {record['updated_at']!r}"
    return None


def jsonl_gz(rows: list[dict[str, Any]]) -> bytes:
    """Rows as gzipped JSON lines (mtime 0: the same rows give the same bytes)."""
    text = "".join(json.dumps(row, separators=(",", ":"), sort_keys=True) + "\n" for row in rows)
    return gzip.compress(text.encode("utf-8"), mtime=0)


def read_jsonl_gz(data: bytes) -> list[dict[str, Any]]:
    """The rows of a gzipped JSON lines object."""
    return [json.loads(line) for line in gzip.decompress(data).splitlines() if line.strip()]
