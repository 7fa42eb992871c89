"""Parquet files partitioned by date and hour, named by offset range, with a per-partition watermark.

Layout: <root>/<topic>/date=YYYY-MM-DD/hour=HH/<topic>-<partition>-<first>-<last>.parquet and
<root>/<topic>/_offsets/<partition>.json holding the last offset durably written. The watermark file
is replaced only after every file of the batch is in place, so it is the commit point: offsets at or
below it are skipped as duplicates, files above it are leftovers of a crashed batch and are deleted.
"""

from __future__ import annotations

import json
import logging
import os
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from kafka_ingest.events import Record
from kafka_ingest.sinks import WriteResult

log = logging.getLogger(__name__)

SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("key", pa.string()),
        ("ts", pa.timestamp("us", tz="UTC")),
        ("kind", pa.string()),
        ("value", pa.string()),
        ("topic", pa.string()),
        ("partition", pa.int32()),
        ("offset", pa.int64()),
    ]
)

DICTIONARY_COLUMNS = ["key", "kind", "topic"]
STATISTICS_COLUMNS = ["ts", "kind", "partition", "offset"]


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _replace_durably(tmp: Path, final: Path) -> None:
    _fsync(tmp)
    os.replace(tmp, final)
    _fsync(final.parent)


def data_file_name(topic: str, partition: int, first: int, last: int) -> str:
    """The name a batch's file gets: the same batch always maps to the same name."""
    return f"{topic}-{partition}-{first:020d}-{last:020d}.parquet"


def parse_file_name(name: str) -> tuple[str, int, int, int] | None:
    """(topic, partition, first, last) from a data file name, None for anything else."""
    if not name.endswith(".parquet"):
        return None
    parts = name[: -len(".parquet")].rsplit("-", 3)
    if len(parts) != 4 or not all(p.isdigit() for p in parts[1:]):
        return None
    return parts[0], int(parts[1]), int(parts[2]), int(parts[3])


class ParquetSink:
    """Exactly-once Parquet output for at-least-once input, keyed on (topic, partition, offset)."""

    name = "parquet"

    def __init__(self, root: Path, compression: str = "snappy") -> None:
        self.root = root
        self.compression = compression
        self.watermarks: dict[tuple[str, int], int] = {}

    def _topic_dir(self, topic: str) -> Path:
        return self.root / topic

    def _watermark_file(self, topic: str, partition: int) -> Path:
        return self._topic_dir(topic) / "_offsets" / f"{partition}.json"

    def _load_watermark(self, topic: str, partition: int) -> int:
        path = self._watermark_file(topic, partition)
        try:
            return int(json.loads(path.read_text())["last_offset"])
        except FileNotFoundError:
            return -1

    def assigned(self, topic: str, partitions: Sequence[int]) -> dict[int, int]:
        """Reload watermarks, delete files of batches that never reached their watermark."""
        resume: dict[int, int] = {}
        wanted = set(partitions)
        for partition in partitions:
            mark = self._load_watermark(topic, partition)
            self.watermarks[(topic, partition)] = mark
            if mark >= 0:
                resume[partition] = mark + 1
        topic_dir = self._topic_dir(topic)
        if topic_dir.is_dir():
            for path in topic_dir.glob("date=*/hour=*/*"):
                if ".tmp-" in path.name and path.name.split(".tmp-")[0].startswith(f"{topic}-"):
                    parsed = parse_file_name(path.name.split(".tmp-")[0])
                    if parsed and parsed[1] in wanted:
                        path.unlink(missing_ok=True)
                    continue
                parsed = parse_file_name(path.name)
                if parsed is None or parsed[0] != topic or parsed[1] not in wanted:
                    continue
                if parsed[2] > self.watermarks[(topic, parsed[1])]:
                    log.warning(
                        "removing orphan file of an unfinished batch", extra={"file": str(path)}
                    )
                    path.unlink(missing_ok=True)
        return resume

    def write(self, records: Sequence[Record]) -> WriteResult:
        """Write each partition's new records, one file per hour, then advance its watermark."""
        result = WriteResult()
        by_partition: dict[tuple[str, int], list[Record]] = defaultdict(list)
        for record in records:
            by_partition[(record.topic, record.partition)].append(record)
        for (topic, partition), part_records in by_partition.items():
            mark = self.watermarks.get((topic, partition))
            if mark is None:
                mark = self._load_watermark(topic, partition)
            fresh = [r for r in part_records if r.offset > mark]
            result.duplicates += len(part_records) - len(fresh)
            if not fresh:
                continue
            first = min(r.offset for r in fresh)
            last = max(r.offset for r in fresh)
            by_hour: dict[tuple[int, int, int, int], list[Record]] = defaultdict(list)
            for r in fresh:
                ts = r.ts
                by_hour[(ts.year, ts.month, ts.day, ts.hour)].append(r)
            name = data_file_name(topic, partition, first, last)
            for (year, month, day, hour), rows in by_hour.items():
                folder = (
                    self._topic_dir(topic)
                    / f"date={year:04d}-{month:02d}-{day:02d}"
                    / f"hour={hour:02d}"
                )
                folder.mkdir(parents=True, exist_ok=True)
                self._write_file(folder / name, rows)
            self._advance(topic, partition, last)
            result.written += len(fresh)
        return result

    def _write_file(self, final: Path, rows: Sequence[Record]) -> None:
        columns = list(zip(*rows, strict=True))
        arrays = []
        for col, field in zip(columns, SCHEMA, strict=True):
            if field.name == "value":
                # Bytes -> binary -> string view is a memcpy; orjson already rejected bad UTF-8.
                arrays.append(pa.array(col, type=pa.binary()).view(pa.string()))
            else:
                arrays.append(pa.array(col, type=field.type))
        table = pa.Table.from_arrays(arrays, schema=SCHEMA)
        tmp = final.with_name(f"{final.name}.tmp-{os.getpid()}")
        pq.write_table(
            table,
            tmp,
            compression=self.compression,
            # Dictionaries and min/max only where they pay off: not for ids and 1 KiB values.
            use_dictionary=DICTIONARY_COLUMNS,
            write_statistics=STATISTICS_COLUMNS,
        )
        _replace_durably(tmp, final)

    def _advance(self, topic: str, partition: int, last: int) -> None:
        path = self._watermark_file(topic, partition)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
        tmp.write_text(json.dumps({"last_offset": last}))
        _replace_durably(tmp, path)
        self.watermarks[(topic, partition)] = last

    def close(self) -> None:
        """Nothing is held open between batches."""


def read_all(root: Path, topic: str) -> pa.Table:
    """Every data file of a topic as one table (for tests, the demo and people checking)."""
    files = sorted(p for p in (root / topic).glob("date=*/hour=*/*.parquet"))
    if not files:
        return SCHEMA.empty_table()
    return pa.concat_tables(pq.read_table(f, schema=SCHEMA) for f in files)
