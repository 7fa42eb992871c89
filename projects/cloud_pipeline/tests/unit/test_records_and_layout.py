"""The record contract, the lake's key layout, payload parsing and deduplication."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from cloud_pipeline import lake
from cloud_pipeline.api_source import Page
from cloud_pipeline.curated import latest_by_id
from cloud_pipeline.jobs import inputs_id, parse
from cloud_pipeline.records import jsonl_gz, problem, read_jsonl_gz
from cloud_pipeline.storage import split_url

from de_common.errors import UserError

GOOD = {"id": 1, "updated_at": "2024-01-01T00:00:00Z", "customer": "c", "amount": 1.5}


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"id": "1"}, "id has the wrong type"),
        ({"id": True}, "id has the wrong type"),
        ({"amount": "n/a"}, "amount has the wrong type"),
        ({"customer": None}, "missing customer"),
        ({"updated_at": "yesterday"}, "not ISO 8601"),
    ],
)
def test_contract_breakers_get_a_reason(change: dict[str, object], reason: str) -> None:
    assert problem(GOOD) is None
    found = problem({**GOOD, **change})
    assert found is not None and reason in found


def test_keys_depend_on_source_and_day_only() -> None:
    day = date(2024, 3, 5)
    assert lake.raw_key("orders", day) == "raw/orders/dt=2024-03-05/orders-20240305.jsonl.gz"
    assert lake.curated_key("orders", day).startswith("curated/orders/dt=2024-03-05/")
    assert lake.errors_key("orders", day).startswith("errors/orders/dt=2024-03-05/")
    assert lake.raw_key("orders", day) == lake.raw_key("orders", date(2024, 3, 5))


def test_parse_counts_a_broken_page_once_and_keeps_item_reasons() -> None:
    pages = [
        Page(1, "u1", 200, json.dumps({"items": [GOOD, {**GOOD, "id": "x"}]})),
        Page(2, "u2", 200, "<html>oops</html>"),
        Page(3, "u3", 200, json.dumps({"rows": []})),
        Page(4, "u4", 200, json.dumps({"items": []})),
    ]
    parsed = parse(pages)
    assert parsed.records_in == 4 and len(parsed.rows) == 1
    assert [r["reason"].split(":")[0] for r in parsed.rejects] == [
        "id has the wrong type",
        "page 2",
        "page 3",
    ]


def test_latest_update_wins_per_id() -> None:
    old = {**GOOD, "amount": 1.0}
    new = {**GOOD, "updated_at": "2024-01-02T00:00:00Z", "amount": 2.0}
    rows, dropped = latest_by_id([new, old, {**GOOD, "id": 2}])
    assert dropped == 1 and [r["amount"] for r in rows] == [2.0, 1.5]


def test_jsonl_gz_is_deterministic_and_round_trips() -> None:
    rows = [GOOD, {**GOOD, "id": 2}]
    assert jsonl_gz(rows) == jsonl_gz(rows)
    assert read_jsonl_gz(jsonl_gz(rows)) == rows


def test_lake_urls() -> None:
    assert split_url("s3://bucket/a/b/") == ("s3", "bucket", "a/b/")
    assert split_url("az://container") == ("az", "container", "")
    with pytest.raises(UserError):
        split_url("ftp://x/y")


def test_the_producer_quarantine_is_named_by_its_inputs(tmp_path: Path) -> None:
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_text("{}\n")
    b.write_text("{}\n{}\n")
    assert inputs_id([str(a)]) == inputs_id([str(a)])  # a rerun overwrites its own list
    assert inputs_id([str(a)]) != inputs_id([str(b)])  # another run's list is kept
