"""Parquet files partitioned by date and hour, rolled from buffers, with a per-partition manifest.

Layout: <root>/<topic>/date=YYYY-MM-DD/hour=HH/<topic>-<partition>-<first>-<last>.parquet, where
first and last are the lowest and highest Kafka offset in the file, and
<root>/<topic>/_offsets/<partition>.json, the partition's manifest:

    {"last_offset": W, "files": ["date=.../hour=.../<name>.parquet", ...]}

Records are buffered per partition and hour across batches (hour_buffers.py) and rolled into a
file when a buffer is full, old, or memory is short. A roll writes its files (temp file, fsync,
rename, fsync of the folder), then replaces the manifest: every record at or below W is in a file,
and `files` lists the files holding records above W. The manifest is the commit point: on
(re)assignment a data file of the partition that is neither below W nor listed is the leftover of
a roll that never finished and is deleted, as are temp files; the offsets in the listed files are
loaded, and records at or below W or among them are skipped as duplicates. W + 1 is the first
record still held in a buffer (or the next one to come), so it never passes a record that is only
in memory; the consumer commits Kafka offsets the same way.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from de_common.durable import fsync_path
from de_common.faults import fault_point
from kafka_ingest.batch import SCHEMA, Batch, partition_mask
from kafka_ingest.sinks import TopicPartitionKey, WriteResult
from kafka_ingest.sinks.hour_buffers import Bucket, HourBuffers, RollPolicy

log = logging.getLogger(__name__)

DICTIONARY_COLUMNS = ["key", "kind", "topic"]
STATISTICS_COLUMNS = ["ts", "kind", "partition", "offset"]
# Files of one roll are written and fsynced in parallel (concurrent fsyncs share the file system's
# journal commits: 2,016 small files took 0.17 s in 32 threads, 0.83 s one after the other), and
# large ones encoded in parallel too.
ROLL_THREADS = 32
LARGE_FILE = 1 << 20


def _write_durably(path: Path, data: pa.Buffer) -> None:
    with path.open("wb") as out:
        out.write(memoryview(data))
        out.flush()
        os.fsync(out.fileno())


def _replace_durably(tmp: Path, final: Path) -> None:
    fsync_path(tmp)
    os.replace(tmp, final)
    fsync_path(final.parent)


def _make_dirs(folder: Path) -> list[Path]:
    """Create folder and its missing parents; return the parents whose entries changed."""
    missing: list[Path] = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        path.mkdir(exist_ok=True)
    return [path.parent for path in missing]


def data_file_name(topic: str, partition: int, first: int, last: int) -> str:
    """A file's name: its partition and offset range (the same rows always get the same name)."""
    return f"{topic}-{partition}-{first:020d}-{last:020d}.parquet"


def parse_file_name(name: str) -> tuple[str, int, int, int] | None:
    """(topic, partition, first, last) from a data file name, None for anything else."""
    if not name.endswith(".parquet"):
        return None
    parts = name[: -len(".parquet")].rsplit("-", 3)
    if len(parts) != 4 or not all(p.isdigit() for p in parts[1:]):
        return None
    return parts[0], int(parts[1]), int(parts[2]), int(parts[3])


def hour_folder(bucket: Bucket) -> str:
    """date=YYYY-MM-DD/hour=HH of a buffer (not strftime: %Y does not zero-pad years < 1000)."""
    hour = bucket.hour
    return f"date={hour.year:04d}-{hour.month:02d}-{hour.day:02d}/hour={hour.hour:02d}"


@dataclass
class _Partition:
    """What the sink knows about one Kafka partition's files."""

    mark: int  # every record at or below this offset is in a file
    files: dict[str, int] = field(default_factory=dict)  # listed file -> its last offset
    next_fresh: int = 0  # offsets below this were taken already (stored, held or skipped)
    stored: pa.Array | None = None  # offsets above `mark` in the listed files (after recovery)


class ParquetSink:
    """Exactly-once Parquet output for at-least-once input, keyed on (topic, partition, offset)."""

    name = "parquet"

    def __init__(
        self, root: Path, policy: RollPolicy | None = None, compression: str = "snappy"
    ) -> None:
        self.root = root
        self.compression = compression
        self.buffers = HourBuffers(policy or RollPolicy())
        self.partitions: dict[TopicPartitionKey, _Partition] = {}
        self._pool: ThreadPoolExecutor | None = None

    def _topic_dir(self, topic: str) -> Path:
        return self.root / topic

    def _manifest_file(self, topic: str, partition: int) -> Path:
        return self._topic_dir(topic) / "_offsets" / f"{partition}.json"

    def _load(self, topic: str, partition: int) -> _Partition:
        path = self._manifest_file(topic, partition)
        try:
            saved = json.loads(path.read_text())
        except FileNotFoundError:
            saved = {"last_offset": -1}
        mark = int(saved["last_offset"])
        files = {name: parse_file_name(Path(name).name) for name in saved.get("files", [])}
        state = _Partition(mark, {n: p[3] for n, p in files.items() if p}, next_fresh=mark + 1)
        self.partitions[(topic, partition)] = state
        return state

    def _state(self, topic: str, partition: int) -> _Partition:
        state = self.partitions.get((topic, partition))
        if state is None:
            state = self._load(topic, partition)
            self._load_stored(self._topic_dir(topic), state)
        return state

    # --- recovery -------------------------------------------------------------------------------

    def assigned(self, topic: str, partitions: Sequence[int]) -> dict[int, int]:
        """Reload manifests, delete what unfinished rolls left, load the listed files' offsets."""
        self.drop([(topic, p) for p in partitions])
        states = {p: self._load(topic, p) for p in partitions}
        topic_dir = self._topic_dir(topic)
        if topic_dir.is_dir():
            for path in topic_dir.glob("date=*/hour=*/*"):
                name, dot_tmp, _ = path.name.partition(".tmp-")
                parsed = parse_file_name(name)
                if parsed is None or parsed[0] != topic or parsed[1] not in states:
                    continue
                state = states[parsed[1]]
                if dot_tmp:
                    path.unlink(missing_ok=True)
                elif parsed[3] > state.mark and path.relative_to(topic_dir).as_posix() not in (
                    state.files
                ):
                    log.warning(
                        "removing a file of a roll that did not finish", extra={"file": str(path)}
                    )
                    path.unlink(missing_ok=True)
        for state in states.values():
            self._load_stored(topic_dir, state)
        return {p: s.mark + 1 for p, s in states.items() if s.mark >= 0}

    def _load_stored(self, topic_dir: Path, state: _Partition) -> None:
        offsets = []
        for name in state.files:
            try:
                column = pq.read_table(topic_dir / name, columns=["offset"])["offset"]
            except FileNotFoundError:
                log.warning("a listed file is missing", extra={"file": str(topic_dir / name)})
                continue
            offsets.append(column.filter(pc.greater(column, state.mark)).combine_chunks())
        if offsets:
            state.stored = pa.concat_arrays(offsets)

    # --- writing --------------------------------------------------------------------------------

    def write(self, batch: Batch) -> WriteResult:
        """Buffer the batch's new rows per partition and hour, roll the buffers that are due."""
        result = WriteResult()
        table = batch.table()
        if table.num_rows:
            fresh = self._fresh(table)
            result.duplicates += table.num_rows - fresh.num_rows
            self.buffers.add(fresh)
        result += self._roll(self.buffers.due())
        if self.buffers.buckets:
            fault_point("parquet.buffered")
        return result

    def _fresh(self, table: pa.Table) -> pa.Table:
        """The rows not taken before: above the mark, not in a listed file, not seen already."""
        pairs = table.group_by(["topic", "partition"]).aggregate([("offset", "max")])
        offsets = table["offset"]
        keep: pa.Array | None = None
        for topic, partition, top in zip(
            pairs["topic"].to_pylist(),
            pairs["partition"].to_pylist(),
            pairs["offset_max"].to_pylist(),
            strict=True,
        ):
            state = self._state(topic, partition)
            fresh = pc.greater_equal(offsets, state.next_fresh)
            if state.stored is not None:
                fresh = pc.and_(fresh, pc.invert(pc.is_in(offsets, value_set=state.stored)))
                if top >= pc.max(state.stored).as_py():
                    state.stored = None  # read past every listed offset: no re-read can follow
            if pairs.num_rows > 1:
                fresh = pc.and_(partition_mask(table, topic, partition), fresh)
            keep = fresh if keep is None else pc.or_(keep, fresh)
            state.next_fresh = max(state.next_fresh, top + 1)
        assert keep is not None
        # The usual batch: nothing seen before, no copy.
        return table if pc.all(keep).as_py() else table.filter(keep)

    def held(self) -> dict[TopicPartitionKey, int]:
        """Per partition, the first offset only in memory."""
        return self.buffers.held()

    def release(self, partitions: Collection[TopicPartitionKey] | None) -> WriteResult:
        """Roll every buffer of these partitions (None: all) now."""
        return self._roll(self.buffers.of(partitions))

    def drop(self, partitions: Collection[TopicPartitionKey]) -> int:
        """Forget the buffers of lost partitions; the next owner re-reads them."""
        gone = self.buffers.take(self.buffers.of(set(partitions)))
        for tp in partitions:
            self.partitions.pop(tp, None)
        return sum(b.rows for b in gone)

    def _roll(self, keys: list[tuple[str, int, int]]) -> WriteResult:
        """Write the buffers as files, then the manifests that make them count."""
        if not keys:
            return WriteResult()
        buckets = self.buffers.take(keys)
        started = time.monotonic()
        jobs = []
        for bucket in buckets:
            name = data_file_name(bucket.topic, bucket.partition, bucket.first, bucket.last)
            jobs.append(
                (bucket.table(), self._topic_dir(bucket.topic) / hour_folder(bucket) / name)
            )
        self._write_files(jobs)
        touched: dict[TopicPartitionKey, None] = {}
        for bucket, (_, final) in zip(buckets, jobs, strict=True):
            tp = (bucket.topic, bucket.partition)
            relative = final.relative_to(self._topic_dir(bucket.topic)).as_posix()
            self._state(*tp).files[relative] = bucket.last
            touched[tp] = None
        for tp in touched:
            self._save_manifest(*tp)
        rows = sum(b.rows for b in buckets)
        log.debug(
            "rolled",
            extra={
                "files": len(jobs),
                "rows": rows,
                "seconds": round(time.monotonic() - started, 3),
            },
        )
        return WriteResult(written=rows, files=len(jobs))

    def _write_files(self, jobs: list[tuple[pa.Table, Path]]) -> None:
        folders = {final.parent for _, final in jobs}
        changed = {parent for folder in folders for parent in _make_dirs(folder)}
        if self._pool is None:
            self._pool = ThreadPoolExecutor(ROLL_THREADS, thread_name_prefix="parquet-roll")
        # Small files are encoded here, all before any write starts (encoding next to 32 writing
        # threads took twice as long), large ones in the pool (Arrow releases the GIL while it
        # encodes); then the writes and fsyncs, all in the pool.
        pool = self._pool
        large = [pool.submit(self._encode, t) if t.nbytes >= LARGE_FILE else None for t, _ in jobs]
        encoded = [
            self._encode(table) if job is None else job.result()
            for (table, _), job in zip(jobs, large, strict=True)
        ]
        tmps = [final.with_name(f"{final.name}.tmp-{os.getpid()}") for _, final in jobs]
        list(pool.map(_write_durably, tmps, encoded))
        for tmp, (_, final) in zip(tmps, jobs, strict=True):
            fault_point("parquet.roll")
            os.replace(tmp, final)
        # The renames, and the entries of folders created for them, are durable after this.
        list(pool.map(fsync_path, folders | changed))

    def _encode(self, table: pa.Table) -> pa.Buffer:
        # In memory, then written with one call: opening the file through Arrow cost more than
        # encoding a partition-hour of 15 rows.
        encoded = pa.BufferOutputStream()
        pq.write_table(
            table,
            encoded,
            compression=self.compression,
            # Dictionaries and min/max only where they pay off: not for ids and 1 KiB values.
            use_dictionary=DICTIONARY_COLUMNS,
            write_statistics=STATISTICS_COLUMNS,
        )
        return encoded.getvalue()

    def _save_manifest(self, topic: str, partition: int) -> None:
        state = self._state(topic, partition)
        state.mark = self.buffers.held().get((topic, partition), state.next_fresh) - 1
        state.files = {n: last for n, last in state.files.items() if last > state.mark}
        path = self._manifest_file(topic, partition)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
        tmp.write_text(json.dumps({"last_offset": state.mark, "files": sorted(state.files)}))
        _replace_durably(tmp, path)

    def close(self) -> None:
        """Stop the roll threads; what is still buffered was never committed (a rerun re-reads it)."""
        if self.buffers.buckets:
            log.info("closing with buffered records", extra={"records": len(self.buffers)})
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


def read_all(root: Path, topic: str) -> pa.Table:
    """Every data file of a topic as one table (for tests, the demo and people checking)."""
    files = sorted(p for p in (root / topic).glob("date=*/hour=*/*.parquet"))
    if not files:
        return SCHEMA.empty_table()
    return pa.concat_tables(pq.read_table(f, schema=SCHEMA) for f in files)
