"""One date of orders on small hand-made JSONL fixtures: outcomes, the latest update per id, the
Parquet partition, the CSV, the rejects and the balance; reruns replace only their date."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from pyspark.sql import SparkSession
from spark_etl import orders, orders_batch, session
from spark_etl.config import SparkEtlSettings

DAY = date(2024, 1, 1)


def order(i: int, at: str, **fields: Any) -> str:
    record = {"id": i, "updated_at": at, "customer": f"c{i}", "email": f"b{i}@x.io",
              "amount": 10.5, "status": "paid", "version": 0}  # fmt: skip
    return json.dumps({**record, **fields})


# (line, expected outcome, expected reason)
CASES = [
    (order(1, "2024-01-01T00:00:00Z"), "ok", None),
    (order(2, "2024-01-01T23:59:59.250Z", amount=0), "ok", None),
    ('{"id": "broken', "rejected", "malformed"),
    (order(3, "2024-01-01T01:00:00Z", amount="n/a"), "rejected", "malformed"),
    (order(4, "2024-01-01 01:00:00"), "rejected", "malformed"),  # no offset: not guessed
    (order(5, "2024-01-01T01:00:00Z", email=None), "rejected", "missing_field"),
    (json.dumps({"id": 6, "updated_at": "2024-01-01T01:00:00Z"}), "rejected", "missing_field"),
    (order(7, "2024-01-01T01:00:00Z", amount=-0.01), "rejected", "out_of_range"),
    (order(8, "2024-01-02T00:00:00Z"), "other_date", None),
    (order(9, "2023-12-31T23:59:59Z"), "other_date", None),
    (order(10, "2024-01-01T00:30:00+01:00"), "other_date", None),  # 2023-12-31 23:30 UTC
]


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    spark = session.start(SparkEtlSettings(master="local[1]"), "spark_etl-unit", [])
    yield spark
    spark.stop()


def write(folder: Path, name: str, lines: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("\n".join(lines) + "\n")
    return folder


def test_every_order_gets_one_outcome_and_the_first_reason_that_applies(
    spark: SparkSession, tmp_path: Path
) -> None:
    src = write(tmp_path, "part-1.jsonl", [c[0] for c in CASES])
    frame = orders.classify(orders.read_orders(spark, [str(src / "part-1.jsonl")]), DAY)
    got = {
        (r["_corrupt_record"] if r["reason"] == "malformed" else r["id"]): (
            r["outcome"],
            r["reason"],
        )
        for r in frame.collect()
    }
    want = {}
    for line, outcome, reason in CASES:
        key = line if reason == "malformed" else json.loads(line)["id"]
        want[key] = (outcome, reason)
    assert got == want


def test_the_latest_update_of_each_id_is_kept_whatever_the_file_order(
    spark: SparkSession, tmp_path: Path
) -> None:
    # The newer version sits in the earlier file: updated_at decides, not the read order.
    write(tmp_path, "part-1.jsonl", [order(1, "2024-01-01T09:00:00Z", status="shipped", version=2)])
    write(tmp_path, "part-2.jsonl", [
        order(1, "2024-01-01T08:00:00Z", status="paid", version=1),
        order(2, "2024-01-01T08:00:00Z", version=0),
        order(2, "2024-01-01T08:00:00Z", version=1, amount=12),  # same instant: higher version
    ])  # fmt: skip
    files = [str(tmp_path / "part-1.jsonl"), str(tmp_path / "part-2.jsonl")]
    kept = orders.latest(orders.classify(orders.read_orders(spark, files), DAY)).collect()
    assert sorted((r["id"], r["status"], r["version"], r["amount"]) for r in kept) == [
        (1, "shipped", 2, Decimal("10.50")),
        (2, "paid", 1, Decimal("12.00")),
    ]


def run(spark: SparkSession, src: Path, out: Path, day: date = DAY, **settings: Any) -> Any:
    req = orders_batch.OrdersRequest(str(src), day, str(out / "orders"), str(out / "orders.csv"))
    conf = SparkEtlSettings(master="local[1]", **{"max_reject_rate": 1.0, **settings})
    return orders_batch.run(spark, conf, req)


def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_one_date_becomes_its_partition_and_one_csv_every_record_accounted_for(
    spark: SparkSession, tmp_path: Path
) -> None:
    src = write(tmp_path / "raw", "part-1.jsonl", [c[0] for c in CASES] + [""])
    write(tmp_path / "raw", "part-2.jsonl", [order(1, "2024-01-01T05:00:00Z", version=1)])
    (tmp_path / "raw" / "_keys.sqlite").write_text("not an input")  # api_fetcher's key index

    stale = tmp_path / "out" / ".orders.csv.0badc0de.tmp"  # a run killed while writing the CSV
    stale.mkdir(parents=True)
    (stale / "part-00000.csv").write_text("id\n99\n")

    summary = run(spark, src, tmp_path / "out")

    assert not stale.exists()
    # 11 cases + 1 newer version of order 1; the blank line is not a record.
    assert (summary.records_in, summary.records_out, summary.records_rejected) == (12, 2, 6)
    assert summary.records_skipped == {"duplicate": 1, "other_date": 3}
    assert summary.extra["rejected_by_reason"] == {
        "malformed": 3, "missing_field": 2, "out_of_range": 1,
    }  # fmt: skip
    assert summary.extra["id_range"] == [1, 2]
    partition = tmp_path / "out" / "orders" / "date=2024-01-01"
    assert summary.extra["output"] == str(partition)
    table = pq.read_table(partition).sort_by("id")
    assert table.column("id").to_pylist() == [1, 2]
    assert table.column("version").to_pylist() == [1, 0]
    assert table.column("updated_at").to_pylist()[0].replace(tzinfo=None) == datetime(2024, 1, 1, 5)
    rows = csv_rows(tmp_path / "out" / "orders.csv")
    assert [r["id"] for r in rows] == ["1", "2"]
    assert rows[0] == {"id": "1", "updated_at": "2024-01-01T05:00:00Z", "customer": "c1",
                       "email": "b1@x.io", "amount": "10.50", "status": "paid", "version": "1"}  # fmt: skip
    rejects = pq.read_table(tmp_path / "out" / "orders" / "_rejects" / "date=2024-01-01")
    assert sorted(rejects.column("reason").to_pylist()) == sorted(
        c[2] for c in CASES if c[1] == "rejected"
    )
    assert '{"id": "broken' in rejects.column("record").to_pylist()


def test_a_rerun_replaces_its_date_only_and_an_empty_date_is_emptied(
    spark: SparkSession, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    run(spark, write(tmp_path / "d1", "p.jsonl", [order(1, "2024-01-01T01:00:00Z")]), out)
    next_day = [order(5, "2024-01-02T01:00:00Z"), order(6, "2024-01-02T02:00:00Z")]
    run(spark, write(tmp_path / "d2", "p.jsonl", next_day), out, date(2024, 1, 2))
    day2 = sorted(p.name for p in (out / "orders" / "date=2024-01-02").iterdir())

    # Date 1 again with other orders: they replace its rows; date 2 keeps its very files.
    again = [order(2, "2024-01-01T01:00:00Z"), order(3, "2024-01-01T02:00:00Z")]
    summary = run(spark, write(tmp_path / "d1b", "p.jsonl", again), out)
    assert summary.records_out == 2
    table = pq.read_table(out / "orders")  # hive partitioning: date from the folder names
    dated = zip(table.column("date").to_pylist(), table.column("id").to_pylist(), strict=True)
    assert sorted((str(d), i) for d, i in dated) == [
        ("2024-01-01", 2), ("2024-01-01", 3), ("2024-01-02", 5), ("2024-01-02", 6),
    ]  # fmt: skip
    assert sorted(p.name for p in (out / "orders" / "date=2024-01-02").iterdir()) == day2

    # An input folder without orders: the date's partition goes, the CSV is its header alone.
    empty = run(spark, write(tmp_path / "e", "p.jsonl", []), out)
    assert (empty.records_in, empty.records_out) == (0, 0)
    assert not (out / "orders" / "date=2024-01-01").exists()
    assert (out / "orders.csv").read_text() == ",".join(orders.ORDER_COLUMNS) + "\n"


def test_too_many_rejects_fail_the_run_and_write_nothing(
    spark: SparkSession, tmp_path: Path
) -> None:
    from de_common.run import JobFailed

    lines = [order(1, "2024-01-01T01:00:00Z"), '{"id": "broken', order(2, "x")]
    with pytest.raises(JobFailed, match=r"66\.7% of the orders were rejected") as failed:
        run(spark, write(tmp_path / "raw", "p.jsonl", lines), tmp_path / "out", max_reject_rate=0.5)
    assert failed.value.summary.records_rejected == 2
    assert not (tmp_path / "out").exists()


def test_a_missing_input_is_a_user_error(spark: SparkSession, tmp_path: Path) -> None:
    from de_common.errors import UserError

    with pytest.raises(UserError, match="input not found"):
        run(spark, tmp_path / "nowhere", tmp_path / "out")
