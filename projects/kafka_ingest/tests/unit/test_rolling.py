"""Parquet buffers per partition and hour: when they roll, what the manifest says, what is committed."""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from confluent_kafka import KafkaException, TopicPartition
from kafka_ingest.batch import Batch, records_table
from kafka_ingest.consumer import BatchConsumer
from kafka_ingest.events import Record
from kafka_ingest.sinks.hour_buffers import HourBuffers, RollPolicy
from kafka_ingest.sinks.parquet_files import ParquetSink, data_file_name, parse_file_name, read_all

T0 = datetime(2026, 3, 1, tzinfo=UTC)
NEVER = RollPolicy(records=10**9, bytes=10**12, age_s=10**9, max_buffered_bytes=10**12)


def record(partition: int, offset: int, hour: int, topic: str = "t") -> Record:
    ts = T0 + timedelta(hours=hour, seconds=offset % 3600)
    return Record(f"{partition}-{offset}", "k", ts, "click", b"{}", topic, partition, offset)


def batch(rows: Iterable[Record]) -> Batch:
    table = Batch()
    table.add_table(records_table(list(rows)))
    return table


def data_files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.parquet"))


def manifest(root: Path, partition: int, topic: str = "t") -> dict[str, Any]:
    saved: dict[str, Any] = json.loads(
        (root / topic / "_offsets" / f"{partition}.json").read_text()
    )
    return saved


def assert_files_match_their_names(root: Path) -> None:
    for path in data_files(root):
        offsets = pq.read_table(path, columns=["offset"])["offset"].to_pylist()
        parsed = parse_file_name(path.name)
        assert parsed is not None and offsets == sorted(offsets)
        assert (parsed[2], parsed[3]) == (offsets[0], offsets[-1])


def test_buffers_hold_across_batches_and_roll_one_file_per_partition_hour(tmp_path: Path) -> None:
    sink = ParquetSink(tmp_path, NEVER)
    for start in (0, 10, 20):
        rows = [record(p, o, hour=o // 15) for p in (0, 1) for o in range(start, start + 10)]
        assert sink.write(batch(rows)).written == 0
    assert data_files(tmp_path) == []
    assert sink.held() == {("t", 0): 0, ("t", 1): 0}
    result = sink.release(None)
    # Hours 0 and 1 for each of the two partitions: four files for three batches.
    assert (result.written, result.files) == (60, 4)
    assert len(data_files(tmp_path)) == 4
    assert_files_match_their_names(tmp_path)
    assert sorted(read_all(tmp_path, "t")["event_id"].to_pylist()) == sorted(
        f"{p}-{o}" for p in (0, 1) for o in range(30)
    )
    assert manifest(tmp_path, 0) == {"last_offset": 29, "files": []}


def test_a_scattered_batch_is_sorted_into_one_slice_per_partition_hour(tmp_path: Path) -> None:
    rng = random.Random(7)
    rows = [record(p, o, hour=rng.randrange(28 * 24)) for o in range(3000) for p in (0, 1, 2)]
    sink = ParquetSink(tmp_path, NEVER)
    sink.write(batch(rows))
    buckets = list(sink.buffers.buckets.values())
    assert len(buckets) == len({(r.partition, r.ts.replace(minute=0, second=0)) for r in rows})
    assert all(len(b.parts) == 1 for b in buckets)
    assert sink.release(None).files == len(buckets)
    assert_files_match_their_names(tmp_path)
    assert read_all(tmp_path, "t").num_rows == len(rows)


def test_a_buffer_rolls_at_its_record_count(tmp_path: Path) -> None:
    sink = ParquetSink(tmp_path, RollPolicy(records=5, age_s=10**9))
    assert sink.write(batch(record(0, o, 0) for o in range(3))).files == 0
    result = sink.write(batch(record(0, o, 0) for o in range(3, 6)))
    assert (result.written, result.files) == (6, 1)
    assert sink.held() == {}


def test_a_buffer_rolls_at_its_byte_size(tmp_path: Path) -> None:
    # Each row counts its value (2 bytes) plus the fixed overhead of the other columns.
    sink = ParquetSink(tmp_path, RollPolicy(bytes=3 * 98, age_s=10**9))
    assert sink.write(batch(record(0, o, 0) for o in range(2))).files == 0
    assert sink.write(batch([record(0, 2, 0)])).files == 1


def test_a_buffer_rolls_at_its_age() -> None:
    buffers = HourBuffers(RollPolicy(age_s=10))
    buffers.add(records_table([record(0, 0, 0)]), now=100.0)
    buffers.add(records_table([record(0, 1, 5)]), now=105.0)
    assert buffers.due(now=109.0) == []
    assert [k[2] for k in buffers.due(now=110.0)] == [int(T0.timestamp()) * 10**6]
    assert len(buffers.due(now=115.0)) == 2


def test_over_the_memory_bound_the_oldest_buffers_roll_first() -> None:
    buffers = HourBuffers(RollPolicy(max_buffered_bytes=1, age_s=10**9))
    for hour in range(4):
        buffers.add(records_table([record(0, hour, hour)]), now=float(hour))
    due = buffers.due(now=4.0)
    assert due and due == list(buffers.buckets)[: len(due)]
    buffers.take(buffers.of(None))
    assert buffers.pinned_bytes == 0


def test_the_mark_stops_at_the_first_held_record_and_lists_the_files_above_it(
    tmp_path: Path,
) -> None:
    sink = ParquetSink(tmp_path, RollPolicy(records=5, age_s=10**9))
    # Offsets 0-2 fall in hour 0 and stay held; 3-9 fill hour 1, which rolls.
    sink.write(
        batch([*(record(0, o, 0) for o in range(3)), *(record(0, o, 1) for o in range(3, 10))])
    )
    assert sink.held() == {("t", 0): 0}
    saved = manifest(tmp_path, 0)
    assert saved["last_offset"] == -1 and len(saved["files"]) == 1
    # The process dies with hour 0 in memory: a new owner re-reads from offset 0.
    again = ParquetSink(tmp_path, RollPolicy(records=5, age_s=10**9))
    assert again.assigned("t", [0]) == {}
    redo = again.write(
        batch([*(record(0, o, 0) for o in range(3)), *(record(0, o, 1) for o in range(3, 12))])
    )
    redo += again.release(None)
    # 3-9 are in the listed file already; 0-2 (lost with the buffer) and 10-11 are new.
    assert (redo.written, redo.duplicates) == (5, 7)
    ids = read_all(tmp_path, "t")["event_id"].to_pylist()
    assert sorted(ids) == sorted(f"0-{o}" for o in range(12))
    assert manifest(tmp_path, 0) == {"last_offset": 11, "files": []}


def test_files_of_a_roll_that_never_reached_the_manifest_are_deleted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sink = ParquetSink(tmp_path, NEVER)
    sink.write(batch(record(0, o, o % 3) for o in range(9)))
    sink.release(None)
    sink.write(batch(record(0, o, o % 3) for o in range(9, 18)))

    def crash(*_: object) -> None:
        raise OSError("killed between the files and the manifest")

    monkeypatch.setattr(ParquetSink, "_save_manifest", crash)
    with pytest.raises(OSError):
        sink.release(None)
    (data_files(tmp_path)[0].parent / f"{data_file_name('t', 0, 9, 17)}.tmp-1").write_bytes(
        b"half a file"
    )
    monkeypatch.undo()
    assert len(data_files(tmp_path)) == 6
    again = ParquetSink(tmp_path, NEVER)
    assert again.assigned("t", [0]) == {0: 9}
    assert len(data_files(tmp_path)) == 3
    assert not list(tmp_path.rglob("*.tmp-*"))
    again.write(batch(record(0, o, o % 3) for o in range(9, 18)))
    assert again.release(None).written == 9
    assert sorted(read_all(tmp_path, "t")["offset"].to_pylist()) == list(range(18))


def test_lost_partitions_forget_their_buffers(tmp_path: Path) -> None:
    sink = ParquetSink(tmp_path, NEVER)
    sink.write(batch([record(0, 0, 0), record(1, 0, 0), record(1, 1, 0)]))
    assert sink.drop([("t", 1)]) == 2
    assert sink.held() == {("t", 0): 0}


class FakeConsumer:
    """Records commits; knows no watermarks."""

    def __init__(self) -> None:
        self.commits: list[dict[int, int]] = []

    def commit(self, offsets: list[TopicPartition], asynchronous: bool) -> None:
        self.commits.append({tp.partition: tp.offset for tp in offsets})

    def get_watermark_offsets(self, tp: TopicPartition, cached: bool) -> tuple[int, int]:
        raise KafkaException("no watermarks here")

    def close(self) -> None:
        pass


class FakeDeadLetters:
    sent = 0

    def confirm(self) -> None:
        pass


def consumer_with(sink: ParquetSink) -> tuple[BatchConsumer, FakeConsumer]:
    fake = FakeConsumer()
    batch = BatchConsumer(
        fake,  # type: ignore[arg-type]
        [sink],
        FakeDeadLetters(),  # type: ignore[arg-type]
        batch_size=100,
        batch_timeout_s=1.0,
    )
    return batch, fake


def test_commits_never_pass_the_first_record_a_sink_holds(tmp_path: Path) -> None:
    batch, kafka = consumer_with(ParquetSink(tmp_path, RollPolicy(records=5, age_s=10**9)))
    # Partition 0: offsets 0-2 in hour 0 (held), 3-9 in hour 1 (rolled); offset 10 is poison.
    # Partition 1: everything rolls.
    for offset in range(10):
        batch.track("t", 0, offset, record(0, offset, 0 if offset < 3 else 1))
    batch.track("t", 0, 10, None)
    for offset in range(6):
        batch.track("t", 1, offset, record(1, offset, 0))
    batch.flush()
    assert kafka.commits == [{0: 0, 1: 6}]
    batch.flush()  # nothing new, nothing due: no commit of the same offsets again
    assert kafka.commits == [{0: 0, 1: 6}]
    batch.flush(release=None)
    assert kafka.commits[-1] == {0: 11}
    assert (batch.result.written, batch.result.dlq, batch.result.files_written) == (16, 1, 3)


def test_a_revocation_rolls_and_commits_the_revoked_partitions_only(tmp_path: Path) -> None:
    sink = ParquetSink(tmp_path, NEVER)
    batch, kafka = consumer_with(sink)
    for partition in (0, 1):
        for offset in range(4):
            batch.track("t", partition, offset, record(partition, offset, 0))
    batch.on_revoke(kafka, [TopicPartition("t", 1)])  # type: ignore[arg-type]
    assert kafka.commits == [{0: 0, 1: 4}]
    assert sink.held() == {("t", 0): 0}
    assert [parse_file_name(p.name) for p in data_files(tmp_path)] == [("t", 1, 0, 3)]
    assert ("t", 1) not in batch.handled
