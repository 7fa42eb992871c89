"""The parsed requests as Parquet, partitioned by UTC date (date=YYYY-MM-DD)."""

from __future__ import annotations

import os

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq


def write_parts(table: pa.Table, base_dir: str, name: str) -> int:
    """One file per date present in the chunk; returns how many files were written."""
    dates = pc.strftime(pc.cast(table["ts"], pa.timestamp("s", tz="UTC")), format="%Y-%m-%d")
    table = table.append_column("timestamp", pc.cast(table["ts"], pa.timestamp("s", tz="UTC")))
    written = 0
    for day in pc.unique(dates).to_pylist():
        part = table.filter(pc.equal(dates, day))
        folder = os.path.join(base_dir, f"date={day}")
        os.makedirs(folder, exist_ok=True)
        pq.write_table(part, os.path.join(folder, f"{name}.parquet"), compression="zstd")
        written += 1
    return written
