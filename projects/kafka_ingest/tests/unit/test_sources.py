"""Inputs: JSONL, CSV, stdin, compressed files and globs, and the seeded generator."""

from __future__ import annotations

import bz2
import gzip
import io
from pathlib import Path

import orjson
import pytest
from kafka_ingest.events import InvalidEvent, check_raw, validate
from kafka_ingest.sources import (
    Generated,
    format_of,
    generate,
    open_source,
    read_csv,
    read_jsonl,
)

from de_common.errors import UserError


def test_jsonl_reports_bad_lines_with_their_line_number() -> None:
    data = b'{"a": 1}\n\nnot json\n{"b": 2}\n'
    items = list(read_jsonl(io.BytesIO(data), "in.jsonl"))
    assert [i.origin for i in items] == ["in.jsonl:1", "in.jsonl:3", "in.jsonl:4"]
    assert [i.raw for i in items] == [b'{"a": 1}', b"not json", b'{"b": 2}']
    with pytest.raises(InvalidEvent, match="decode: not JSON"):
        check_raw(items[1].raw)
    with pytest.raises(InvalidEvent, match="schema"):
        check_raw(items[2].raw)


def test_csv_builds_events_from_columns() -> None:
    data = (
        "event_id,key,ts,kind,payload,country\n"
        'e1,k1,2026-01-01T00:00:00Z,click,"{""seq"": 3}",NL\n'
        "e2,k2,2026-01-01T00:00:00Z,click,{broken,NL\n"
    )
    items = list(read_csv(io.BytesIO(data.encode()), "in.csv"))
    assert validate(items[0].event)["payload"] == {"seq": 3, "country": "NL"}
    assert orjson.loads(items[0].raw)["key"] == "k1"
    assert items[1].error is not None and "payload" in items[1].error


def test_csv_without_required_columns_is_a_usage_error() -> None:
    with pytest.raises(UserError, match="kind"):
        list(read_csv(io.BytesIO(b"event_id,key,ts\n1,2,3\n"), "x.csv"))


def test_missing_file_is_a_usage_error_before_anything_is_read(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not found"):
        open_source([str(tmp_path / "nope.jsonl")], "auto")
    with pytest.raises(UserError, match="no file matches"):
        open_source([str(tmp_path / "*.csv")])


CSV = "event_id,key,ts,kind\ne1,k1,2026-01-01T00:00:00Z,click\n"
JSONL = b'{"event_id":"e2","key":"k2","ts":"2026-01-01T00:00:00Z","kind":"click","payload":{}}\n'


def test_compressed_inputs_and_globs_in_their_format(tmp_path: Path) -> None:
    (tmp_path / "a.csv.gz").write_bytes(gzip.compress(CSV.encode()))
    # The content says bz2 whatever the name says; the name (less .gz/.bz2/.zip) says the format.
    (tmp_path / "b.jsonl").write_bytes(bz2.compress(JSONL))
    items = list(open_source([str(tmp_path / "*.csv.gz"), str(tmp_path / "b.jsonl")]))
    assert [i.origin for i in items] == ["a.csv.gz:2", "b.jsonl:1"]
    assert [i.problem() for i in items] == [None, None]
    assert [orjson.loads(i.raw)["event_id"] for i in items] == ["e1", "e2"]
    assert format_of("x.CSV.bz2") == "csv" and format_of("x.csv", "jsonl") == "jsonl"
    assert format_of("x.jsonl.zip") == "jsonl"


def test_an_items_problem_is_the_producers_verdict() -> None:
    items = list(read_jsonl(io.BytesIO(JSONL + b"{broken\n"), "in.jsonl"))
    assert items[0].problem() is None
    assert (items[1].problem() or "").startswith("decode")
    assert next(Generated(30, invalid_every=10).items()).problem() is None
    assert sum(i.problem() is not None for i in Generated(30, invalid_every=10).items()) == 3


def test_generator_is_deterministic_and_mixes_in_poison() -> None:
    first = [i.raw for i in generate(200, seed=7, invalid_every=10)]
    assert first == [i.raw for i in generate(200, seed=7, invalid_every=10)]
    invalid = 0
    for item in generate(200, seed=7, invalid_every=10):
        try:
            validate(item.event)
        except InvalidEvent:
            invalid += 1
    assert invalid == 20


def test_generator_numbers_each_key_in_order() -> None:
    seqs: dict[str, list[int]] = {}
    for item in generate(500, keys=5):
        seqs.setdefault(item.event["key"], []).append(item.event["payload"]["seq"])
    assert all(s == list(range(len(s))) for s in seqs.values())


def test_padding_makes_one_kib_events() -> None:
    item = next(generate(1, pad_bytes=900))
    assert 1000 <= len(item.raw) <= 1100
