"""The buffered Parquet writer under SIGKILL: data in buffers, a roll half written, a month of data.

Events whose times scatter over 28 days x 24 hours (a replay, late data) used to cost one file per
batch per partition-hour; now each partition-hour buffer rolls into one file unless it fills up.
A kill must lose nothing (the commit never passes a record only held in memory) and duplicate
nothing (the rerun skips what the manifest says is stored, and deletes unlisted files).
"""

from __future__ import annotations

import signal
from pathlib import Path

import orjson
import pyarrow.compute as pc
import pytest
from kafka_ingest.sinks.parquet_files import read_all
from kafka_ingest.sources import SourceItem, generate

from de_services.testing import fault_env

from .conftest import TopicEnv, checksum, cli, parquet_pairs, read_topic, run_cli, valid_events

pytestmark = pytest.mark.integration

MONTH_HOURS = 28 * 24


def produce_items(items: list[SourceItem], env: dict[str, str], tmp_path: Path) -> None:
    source = tmp_path / f"in-{len(list(tmp_path.glob('in-*')))}.jsonl"
    source.write_bytes(b"\n".join(item.raw for item in items) + b"\n")
    assert run_cli(["produce", "--input", str(source)], env, tmp_path)["records_out"] == len(items)


def counts(root: Path, topic: str) -> tuple[int, int]:
    """(data files, partition-hour buckets their rows fall in)."""
    table = read_all(root, topic)
    hours = pc.floor_temporal(table["ts"], unit="hour")
    buckets = {
        (p, h) for p, h in zip(table["partition"].to_pylist(), hours.to_pylist(), strict=True)
    }
    return len(list((root / topic).rglob("*.parquet"))), len(buckets)


def assert_exactly_once(root: Path, topic: str, expected: dict[str, str]) -> None:
    rows = parquet_pairs(root, topic)
    assert len(rows) == len(expected)
    assert checksum(rows) == checksum(expected.items())


def committed_offsets(env: dict[str, str], tmp_path: Path) -> dict[int, int]:
    rows = run_cli(["lag"], env, tmp_path)["partitions"]
    return {r["partition"]: r["committed"] if r["committed"] is not None else 0 for r in rows}


def test_sigkill_while_buffers_hold_data_then_rerun_is_exactly_once(
    topic_with_env: TopicEnv, kafka_bootstrap: str, tmp_path: Path
) -> None:
    root = tmp_path / "out"
    topic, env = topic_with_env(3, output_dir=str(root), roll_records="500")
    # An hour of time-ordered events (its buffers fill and roll), a month of late data (about one
    # event per partition-hour: those buffers only roll at the end), then the hour again: its
    # rolls store rows above records that are still only held.
    ordered = list(generate(3000, seed=1, span_hours=1))
    late = list(generate(3000, seed=2, span_hours=MONTH_HOURS, scattered=True))
    again = list(generate(3000, seed=3, span_hours=1))
    for items in (ordered, late, again):
        produce_items(items, env, tmp_path)
    expected = valid_events(ordered) | valid_events(late) | valid_events(again)
    args = ["consume", "--batch-size", "300", "--stop-at-end", "--idle-timeout", "15"]
    proc = cli(args, env | fault_env("parquet.buffered", 27), tmp_path)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    stored = {event_id for event_id, _ in parquet_pairs(root, topic)}
    assert 0 < len(stored) < len(expected)
    # The commit never passed a record that was only in memory: everything below it is stored,
    # and it moved (the ordered hour rolled) but stopped at the late data held in buffers.
    committed = committed_offsets(env, tmp_path)
    where = {
        orjson.loads(m.value())["event_id"]: (m.partition(), m.offset())
        for m in read_topic(kafka_bootstrap, topic)
    }
    below = {e for e, (p, o) in where.items() if o < committed[p]}
    assert below and below <= stored
    summary = run_cli(args, env, tmp_path)
    assert summary["records_in"] < len(expected)  # it resumed at the commit, not at 0
    assert summary["records_skipped"]["duplicate"] > 0  # re-read rows a roll had stored
    assert_exactly_once(root, topic, expected)
    files, buckets = counts(root, topic)
    # One file per late partition-hour; the ordered hour of each partition (2,000 events, a file
    # per 500 or more) rolled at most four times, plus once at the end and once at the kill.
    assert files <= buckets + 5 * 3
    assert 0 < summary["files_written"] < files


def test_sigkill_while_a_roll_is_written_then_rerun_is_exactly_once(
    topic_with_env: TopicEnv, tmp_path: Path
) -> None:
    root = tmp_path / "out"
    topic, env = topic_with_env(3, output_dir=str(root))
    late = list(generate(3000, seed=3, span_hours=MONTH_HOURS, scattered=True))
    produce_items(late, env, tmp_path)
    args = ["consume", "--batch-size", "500", "--stop-at-end", "--idle-timeout", "15"]
    # Nothing is due before the end: the last flush rolls every buffer, and dies at file 300.
    proc = cli(args, env | fault_env("parquet.roll", 300), tmp_path)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    assert len(list(root.rglob("*.parquet"))) == 299
    assert list(root.rglob("*.tmp-*"))
    # Every record was still held by the buffers: nothing was committed.
    assert sum(committed_offsets(env, tmp_path).values()) == 0
    summary = run_cli(args, env, tmp_path)
    assert (summary["records_in"], summary["records_out"]) == (3000, 3000)
    assert not list(root.rglob("*.tmp-*"))
    assert_exactly_once(root, topic, valid_events(late))
    files, buckets = counts(root, topic)
    assert files == buckets == summary["files_written"]
