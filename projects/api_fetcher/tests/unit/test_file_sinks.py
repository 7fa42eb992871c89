"""The file sinks: deduplicated on key and content, changes appended, crash leftovers recovered,
Parquet typed from the JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from api_fetcher.records import Checker, Record
from api_fetcher.sinks.files import FileSink
from api_fetcher.sinks.formats import JsonLines, Parquet
from api_fetcher.sinks.keyindex import KeyIndex
from api_fetcher.spec import Endpoint

EP = Endpoint.model_validate(
    {
        "name": "orders",
        "path": "/o",
        "primary_key": "id",
        "incremental": {"cursor_field": "ts", "param": "since"},
        "schema": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "ts": {"type": "string"},
                "amount": {"type": ["number", "null"]},
                "tags": {"type": "array"},
            },
        },
    }
)


def recs(*rows: dict[str, Any]) -> list[Record]:
    checker = Checker(EP)
    out = [checker.check(r) for r in rows]
    assert all(isinstance(r, Record) for r in out)
    return out  # type: ignore[return-value]


def lines(folder: Path) -> list[dict[str, Any]]:
    return [
        json.loads(x) for p in sorted(folder.rglob("*.jsonl")) for x in p.read_text().splitlines()
    ]


def test_same_records_twice_are_duplicates_and_changes_are_appended(tmp_path: Path) -> None:
    sink = FileSink(tmp_path, JsonLines())
    a = {"id": 1, "ts": "2024-01-01T00:00:00Z", "amount": 1.0}
    b = {"id": 2, "ts": "2024-01-02T00:00:00Z", "amount": 2.0}
    first = sink.write(recs(a, b, a))
    assert (first.written, first.duplicates) == (2, 1)
    again = sink.write(recs(a, b))
    assert (again.written, again.duplicates) == (0, 2)
    changed = sink.write(recs({**a, "amount": 9.0}))
    assert (changed.written, changed.updated) == (1, 1)
    sink.close()
    days = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("date="))
    assert days == ["date=2024-01-01", "date=2024-01-02"]
    assert sorted((r["id"], r["amount"]) for r in lines(tmp_path)) == [(1, 1.0), (1, 9.0), (2, 2.0)]


def test_recovery_finishes_committed_files_and_drops_the_rest(tmp_path: Path) -> None:
    index = KeyIndex(tmp_path)
    day = tmp_path / "date=2024-01-01"
    day.mkdir()
    (day / "part-a.jsonl.tmp").write_text('{"id": 1}\n')
    (day / "part-b.jsonl.tmp").write_text('{"id": 2}\n')
    index.commit([("1", "d1")], ["date=2024-01-01/part-a.jsonl"])
    index.close()
    KeyIndex(tmp_path).close()
    assert sorted(p.name for p in day.iterdir()) == ["part-a.jsonl"]


def test_parquet_columns_follow_the_schema_and_keep_extra_fields(tmp_path: Path) -> None:
    sink = FileSink(tmp_path, Parquet(EP))
    sink.write(
        recs({"id": 1, "ts": "2024-01-01T00:00:00Z", "amount": None, "tags": ["x"], "more": 5})
    )
    sink.close()
    (path,) = tmp_path.rglob("*.parquet")
    table = pq.read_table(path)
    assert str(table.schema.field("id").type) == "int64"
    assert str(table.schema.field("amount").type) == "double"
    row = table.to_pylist()[0]
    assert row["tags"] == '["x"]' and json.loads(row["_extra"]) == {"more": 5}
