"""The batch path (columnar.check_many + batch.decode) against the per-message reference.

decode() must give, for any input, exactly what parse_record gives message by message: the same
records (fields and instant) and the same poison with the same reason.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

import orjson
import pytest
from kafka_ingest.batch import Batch, decode
from kafka_ingest.columnar import check_many
from kafka_ingest.events import InvalidEvent, Record, parse_record

GOOD: dict[str, object] = {
    "event_id": "e-1",
    "key": "user-1",
    "ts": "2026-01-01T10:15:00.250Z",
    "kind": "page_view",
    "payload": {"seq": 1, "pad": "x" * 50},
}

TIMES = [
    "2026-01-01T10:15:00Z",
    "2026-01-01T10:15:00+01:00",
    "2026-01-01T10:15:00.1Z",
    "2026-01-01T10:15:00.123456Z",
    "2026-01-01T10:15:00.1234567Z",
    "2026-01-01T10:15:00.123456789+0530",
    "2026-01-01t10:15:00z",
    "2026-01-01 10:15:00Z",
    "2026-01-01T10:15:00",
    "2026-01-01T24:00:00Z",
    "2026-01-01T23:59:60Z",
    "2026-02-29T00:00:00Z",
    "2024-02-29T23:59:59-23:59",
    "2026-02-30T00:00:00Z",
    "0000-01-01T00:00:00Z",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:30:00-01:00",
    "1000-01-01T00:00:00Z",
    "0999-06-01T10:15:00Z",
    "\uff12\uff10\uff12\uff16-01-01T00:00:00Z",
    "2026-01-01T10:15:00Z\n",
    "2026-01-01T10:15:00+24:00",
    "",
]
KINDS = ["click", "a", "a" * 64, "a" * 65, "Click", "click-1", "click\n", "1click", "k.v_2", "é"]
OTHER: list[dict[str, object]] = [
    {"event_id": ""},
    {"event_id": "é" * 128},
    {"event_id": "é" * 129},
    {"event_id": 7},
    {"key": "k" * 257},
    {"key": None},
    {"payload": []},
    {"payload": "text"},
    {"payload": {"nested": {"deep": [1, 2, {"x": None}]}}},
    {"extra": 1},
]


def corpus() -> list[bytes | None]:
    """Valid events and near-misses, plus raw bytes no JSON encoder would produce."""
    events = [{**GOOD, "ts": ts} for ts in TIMES] + [{**GOOD, "kind": k} for k in KINDS]
    events += [{**GOOD, **change} for change in OTHER]
    events.append({k: v for k, v in GOOD.items() if k != "kind"})
    values: list[bytes | None] = [orjson.dumps(e) for e in events]
    good = orjson.dumps(GOOD)
    values += [
        None,
        b"",
        b"not json",
        b"[1, 2]",
        good.replace(b'"pad":"x', b'"pad":"\xff'),  # invalid UTF-8 inside the payload
        good.replace(b'"user-1"', b'"us\xc3\xa9r"'),  # valid multi-byte UTF-8
        good + b" ",
        good[:-1],
        good.replace(b'"kind"', b'"kind" '),
        b'{"event_id":"a","event_id":"b","key":"k","ts":"2026-01-01T00:00:00Z","kind":"a","payload":{}}',
        # Deeper than msgspec goes (it raises RecursionError): the full check must decide.
        good.replace(b'"payload":{', b'"payload":{"deep":' + b"[" * 1200 + b"]" * 1200 + b","),
    ]
    # Seeded byte mutations of a valid event: flipped, dropped and inserted characters.
    rng = random.Random(7)
    alphabet = b'0123456789:-+TZtz."{}[], \\\xff\n'
    for _ in range(600):
        raw = bytearray(good)
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(raw))
            action = rng.randrange(3)
            if action == 0:
                raw[at] = rng.choice(alphabet)
            elif action == 1:
                del raw[at]
            else:
                raw.insert(at, rng.choice(alphabet))
        values.append(bytes(raw))
    return values


def reference(values: list[bytes | None]) -> tuple[list[Record], list[tuple[int, str]]]:
    records, poison = [], []
    for i, value in enumerate(values):
        try:
            records.append(parse_record(value, "t", i % 3, i))
        except InvalidEvent as exc:
            poison.append((i, str(exc)))
    return records, poison


def test_corpus_has_both_outcomes_and_both_paths() -> None:
    values = corpus()
    records, poison = reference(values)
    checked = check_many(values)
    # Otherwise the comparison below would prove little.
    assert len(records) > 40 and len(poison) > 300
    assert 0 < checked.accepted < len(records)


def test_batch_decode_equals_the_per_message_path() -> None:
    values = corpus()
    n = len(values)
    decoded = decode(values, ["t"] * n, [i % 3 for i in range(n)], list(range(n)))
    batch = Batch(decoded.records)
    batch.add_table(decoded.table)
    expected_records, expected_poison = reference(values)
    assert sorted(batch.rows(), key=lambda r: r.offset) == expected_records
    assert decoded.poison == expected_poison


def test_accepted_rows_carry_the_same_instant_as_fromisoformat() -> None:
    values = [orjson.dumps({**GOOD, "ts": ts}) for ts in TIMES]
    checked = check_many(values)
    for ok, ts, text in zip(checked.ok.to_pylist(), checked.ts.to_pylist(), TIMES, strict=True):
        if ok:
            assert ts == datetime.fromisoformat(text).astimezone(UTC)


@pytest.mark.parametrize("size", [0, 1, 5])
def test_small_and_empty_batches(size: int) -> None:
    values: list[bytes | None] = [orjson.dumps(GOOD)] * size
    decoded = decode(values, ["t"] * size, [0] * size, list(range(size)))
    assert decoded.table.num_rows == size and not decoded.records and not decoded.poison


def test_lost_partitions_are_dropped_from_both_forms() -> None:
    values: list[bytes | None] = [orjson.dumps(GOOD)] * 6
    decoded = decode(values, ["t"] * 6, [0, 1, 2, 0, 1, 2], list(range(6)))
    batch = Batch([parse_record(orjson.dumps(GOOD), "t", 1, 99)])
    batch.add_table(decoded.table)
    assert batch.drop_partitions({("t", 1)}) == 3
    assert len(batch) == 4 and {r.partition for r in batch.rows()} == {0, 2}
