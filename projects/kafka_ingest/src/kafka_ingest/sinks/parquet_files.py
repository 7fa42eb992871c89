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
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from kafka_ingest.batch import SCHEMA, Batch, partition_mask
from kafka_ingest.sinks import WriteResult

log = logging.getLogger(__name__)

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

    def write(self, batch: Batch) -> WriteResult:
        """Write each partition's new rows, one file per hour, then advance its watermark."""
        result = WriteResult()
        table = batch.table()
        if not table.num_rows:
            return result
        table = table.append_column("_hour", pc.floor_temporal(table["ts"], unit="hour"))
        pairs = table.group_by(["topic", "partition"]).aggregate([])
        for topic, partition in zip(
            pairs["topic"].to_pylist(), pairs["partition"].to_pylist(), strict=True
        ):
            mark = self.watermarks.get((topic, partition))
            if mark is None:
                mark = self._load_watermark(topic, partition)
            mine = partition_mask(table, topic, partition)
            fresh_mask = pc.and_(mine, pc.greater(table["offset"], mark))
            total, fresh_count = pc.sum(mine).as_py(), pc.sum(fresh_mask).as_py() or 0
            result.duplicates += total - fresh_count
            if not fresh_count:
                continue
            # One partition, all fresh (the usual batch): no copy at all.
            fresh = table if fresh_count == table.num_rows else table.filter(fresh_mask)
            bounds = pc.min_max(fresh["offset"])
            first, last = bounds["min"].as_py(), bounds["max"].as_py()
            name = data_file_name(topic, partition, first, last)
            hours = pc.unique(fresh["_hour"]).to_pylist()
            for hour in hours:
                rows = fresh if len(hours) == 1 else fresh.filter(pc.equal(fresh["_hour"], hour))
                # Not strftime: %Y does not zero-pad years before 1000.
                folder = (
                    self._topic_dir(topic)
                    / f"date={hour.year:04d}-{hour.month:02d}-{hour.day:02d}"
                    / f"hour={hour.hour:02d}"
                )
                folder.mkdir(parents=True, exist_ok=True)
                self._write_file(folder / name, rows.drop_columns(["_hour"]))
            self._advance(topic, partition, last)
            result.written += fresh_count
        return result

    def _write_file(self, final: Path, table: pa.Table) -> None:
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
