"""The curated layer: valid records deduplicated by id (the latest update wins), typed, Parquet."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("updated_at", pa.timestamp("ms", tz="UTC")),
        ("customer", pa.string()),
        ("amount", pa.float64()),
        ("status", pa.string()),
    ]
)


def latest_by_id(records: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """One record per id, the latest updated_at (ties: the last seen); and how many were dropped."""
    kept: dict[int, dict[str, Any]] = {}
    for record in records:
        old = kept.get(record["id"])
        if old is None or record["updated_at"] >= old["updated_at"]:
            kept[record["id"]] = record
    return [kept[k] for k in sorted(kept)], len(records) - len(kept)


def write_parquet(records: list[dict[str, Any]], path: Path) -> None:
    """Typed columns; fields outside the schema are not curated (they stay in the raw layer)."""
    columns: dict[str, list[Any]] = {name: [] for name in SCHEMA.names}
    for record in records:
        columns["id"].append(record["id"])
        columns["updated_at"].append(
            datetime.fromisoformat(record["updated_at"].replace("Z", "+00:00"))
        )
        columns["customer"].append(record["customer"])
        columns["amount"].append(float(record["amount"]))
        status = record.get("status")
        columns["status"].append(status if isinstance(status, str) else None)
    table = pa.Table.from_pydict(columns, schema=SCHEMA)
    pq.write_table(table, path, compression="zstd")
