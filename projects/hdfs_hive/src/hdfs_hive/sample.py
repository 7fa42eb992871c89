"""Production-shaped sample data: events Parquet in dt= folders, many small files and a few large.

Skewed user ids, null-like texts ('NULL', 'None', 'N/A', ''), real nulls, hostile text (quotes,
backslashes, SQL, newlines, emoji), late and out-of-order timestamps and duplicate event ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

HOSTILE = [
    "NULL",
    "None",
    "N/A",
    "",
    "it's",
    "a\\'; DROP TABLE events; --",
    'say "hi"',
    "line\nbreak",
    "tab\there",
    "zürich ☃ 🚀",
    "%(dt)s",
    "`backtick`",
]
COUNTRIES = ["DE", "US", "FR", "IN", "BR", "NULL", "", "N/A"]


@dataclass(frozen=True)
class Shape:
    """How much to generate."""

    days: int = 3
    small_files: int = 4  # per day
    small_rows: int = 500
    large_files: int = 0  # in total, on the first day
    large_rows: int = 1_000_000
    start: date = date(2026, 11, 1)
    seed: int = 7


def events(rows: int, day: date, rng: np.random.Generator, first_id: int) -> pa.Table:
    """One file's worth of events for `day`."""
    ids = np.arange(first_id, first_id + rows, dtype=np.int64)
    dupes = rng.random(rows) < 0.01
    ids[dupes] = rng.integers(first_id, first_id + rows, int(dupes.sum()))
    # Skew: a third of all events come from one user.
    users = np.where(rng.random(rows) < 0.33, 1, rng.integers(2, 50_000, rows))
    amount = np.round(rng.lognormal(3, 1.2, rows), 2)
    amount_mask = rng.random(rows) < 0.02
    base = datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()
    # Most events on the day, some late (up to two days before: arriving in a later partition).
    offsets = rng.uniform(0, 86_400, rows) - np.where(rng.random(rows) < 0.05, 86_400 * 2, 0)
    ts = ((base + offsets) * 1_000_000).astype("int64")
    notes = np.array([f"n{v:016x}" for v in rng.integers(0, 2**62, rows)], dtype=object)
    hostile = rng.random(rows) < 0.05
    notes[hostile] = rng.choice(np.array(HOSTILE, dtype=object), int(hostile.sum()))
    return pa.table(
        {
            "event_id": pa.array(ids),
            "user_id": pa.array([f"u{u:05d}" for u in users]),
            "amount": pa.array(amount, mask=amount_mask),
            "country": pa.array(rng.choice(np.array(COUNTRIES, dtype=object), rows)),
            "note": pa.array(notes, type=pa.string()),
            "event_ts": pa.array(ts, type=pa.timestamp("us", tz="UTC")),
        }
    )


def generate(folder: Path, shape: Shape) -> tuple[int, int]:
    """Write the dataset under folder/dt=.../part-*.parquet; (files, rows) written."""
    rng = np.random.default_rng(shape.seed)
    files = rows = 0
    for offset in range(shape.days):
        day = shape.start + timedelta(days=offset)
        part = folder / f"dt={day.isoformat()}"
        part.mkdir(parents=True, exist_ok=True)
        sizes = [shape.small_rows] * shape.small_files
        if offset == 0:
            sizes += [shape.large_rows] * shape.large_files
        for n, size in enumerate(sizes):
            table = events(size, day, rng, first_id=rows)
            pq.write_table(table, part / f"part-{n:05d}.parquet", compression="snappy")
            files += 1
            rows += size
    return files, rows
