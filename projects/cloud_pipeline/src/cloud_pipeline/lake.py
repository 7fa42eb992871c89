"""The lake's key layout: derived from the source and the data interval, never from the clock, so a
rerun of the same interval overwrites its objects instead of adding new ones."""

from __future__ import annotations

from datetime import date

RAW, CURATED, ERRORS, STREAM = "raw", "curated", "errors", "stream"


def run_id(source: str, day: date) -> str:
    """The run of one source and one daily interval: stable across reruns."""
    return f"{source}-{day:%Y%m%d}"


def raw_key(source: str, day: date) -> str:
    """Raw API responses, gzipped JSON lines, exactly as received."""
    return f"{RAW}/{source}/dt={day:%Y-%m-%d}/{run_id(source, day)}.jsonl.gz"


def curated_key(source: str, day: date) -> str:
    """Valid records, typed and deduplicated, as Parquet."""
    return f"{CURATED}/{source}/dt={day:%Y-%m-%d}/{run_id(source, day)}.parquet"


def errors_key(source: str, day: date) -> str:
    """Rejected pages and records with the reason."""
    return f"{ERRORS}/{source}/dt={day:%Y-%m-%d}/{run_id(source, day)}.jsonl.gz"


def stream_key(layer: str, shard: str, first_seq: str, last_seq: str, day: date) -> str:
    """A micro-batch from one shard (layer `stream` or `errors/stream`): named by its sequence range, so a redelivery overwrites it."""
    return f"{layer}/dt={day:%Y-%m-%d}/{shard}-{first_seq}-{last_seq}.jsonl.gz"
