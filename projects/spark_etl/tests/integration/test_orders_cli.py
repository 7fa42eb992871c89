"""`transform` as a user (or Airflow) runs it: one date of api_fetcher-shaped orders, compared with
an independent plain-Python reading of the same files; a run SIGKILLed between its outputs made
whole by the rerun; the raw S3 prefix as input (s3a://)."""

from __future__ import annotations

import csv
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from de_services.testing import fault_env, s3_client

from .conftest import cli, summary_of

pytestmark = pytest.mark.integration
DAY = "2024-01-01"
ORDERS = 3000
COLUMNS = ["id", "updated_at", "customer", "email", "amount", "status", "version"]


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def partition(folder: Path, seed: int = 5) -> Path:
    """Two fetch runs' files of one date, as api_fetcher writes them: every order, then a tenth of
    them changed; broken, blank, amount-less and next-day records spread through."""
    rng = random.Random(seed)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    folder.mkdir(parents=True)
    changed = rng.sample(range(1, ORDERS + 1), ORDERS // 10)
    for run, ids in enumerate([range(1, ORDERS + 1), changed]):
        lines = []
        for i in ids:
            at = start + timedelta(
                seconds=rng.randrange(0, 86_400 if run == 0 else 3_600) + run * 82_000
            )
            record: dict[str, Any] = {
                "id": i, "updated_at": iso(min(at, start + timedelta(seconds=86_399))),
                "customer": f"customer-{rng.randrange(5):02d}", "email": f"buyer{i}@example.com",
                "amount": round(rng.uniform(0, 999), 2), "status": rng.choice(["new", "paid"]),
                "version": run,
            }  # fmt: skip
            roll = rng.random()
            if roll < 0.01:
                lines.append("")
            elif roll < 0.02:
                lines.append('{"id": ' + str(i) + ', "updated_at": "2024-01-0')  # cut short
                continue
            elif roll < 0.03:
                record["amount"] = "n/a"
            elif roll < 0.04:
                del record["status"]
            elif roll < 0.05:
                record["updated_at"] = iso(start + timedelta(days=1, minutes=i % 60))
            lines.append(json.dumps(record))
        (folder / f"part-2024010{run + 1}T000000-{run:05d}.jsonl").write_text(
            "\n".join(lines) + "\n"
        )
    return folder


def independent(folder: Path) -> tuple[dict[str, int], list[dict[str, str]]]:
    """Plain Python: the outcome counts and the latest valid version of each order on DAY."""
    counts = {"in": 0, "rejected": 0, "other_date": 0, "ok": 0}
    latest: dict[int, dict[str, Any]] = {}
    for path in sorted(folder.glob("*.jsonl")):
        for line in path.read_text().splitlines():
            if not line.strip():
                continue
            counts["in"] += 1
            try:
                record = json.loads(line)
                float(record["amount"])
                assert all(
                    record.get(k) is not None for k in ("id", "updated_at", "email", "status")
                )
            except (ValueError, KeyError, AssertionError):
                counts["rejected"] += 1
                continue
            if not record["updated_at"].startswith(DAY):
                counts["other_date"] += 1
                continue
            counts["ok"] += 1
            old = latest.get(record["id"])
            if old is None or (record["updated_at"], record["version"]) > (
                old["updated_at"], old["version"],
            ):  # fmt: skip
                latest[record["id"]] = record
    rows = [
        {**{k: str(r[k]) for k in COLUMNS}, "amount": f"{r['amount']:.2f}"}
        for r in (latest[i] for i in sorted(latest))
    ]
    return counts, rows


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def check_outputs(out: Path, rows: list[dict[str, str]]) -> None:
    """The date's Parquet and the CSV hold exactly `rows`."""
    assert read_csv(out / "orders.csv") == rows
    table = pq.read_table(out / "orders" / f"date={DAY}").sort_by("id")
    assert table.column("id").to_pylist() == [int(r["id"]) for r in rows]
    assert [f"{a:.2f}" for a in table.column("amount").to_pylist()] == [r["amount"] for r in rows]
    assert table.column("version").to_pylist() == [int(r["version"]) for r in rows]


def transform(src: str, out: Path, env: dict[str, str] | None = None, *extra: str) -> Any:
    return cli(
        "transform", src, "--date", DAY, "--out", str(out / "orders"),
        "--csv-out", str(out / "orders.csv"), "--master", "local[2]", *extra, env=env,
    )  # fmt: skip


def test_one_date_of_orders_equals_an_independent_reading_and_balances(tmp_path: Path) -> None:
    raw = partition(tmp_path / "raw")
    counts, rows = independent(raw)

    summary = summary_of(transform(str(raw), tmp_path / "out"))

    assert summary["records_in"] == counts["in"]
    assert summary["records_out"] == len(rows)
    assert summary["records_rejected"] == counts["rejected"]
    assert summary["records_skipped"] == {
        "duplicate": counts["ok"] - len(rows), "other_date": counts["other_date"],
    }  # fmt: skip
    assert summary["records_in"] == (
        summary["records_out"]
        + summary["records_rejected"]
        + sum(summary["records_skipped"].values())
    )
    assert summary["output"] == str(tmp_path / "out" / "orders" / f"date={DAY}")
    assert summary["csv"] == str(tmp_path / "out" / "orders.csv")
    assert summary["id_range"] == [int(rows[0]["id"]), int(rows[-1]["id"])]
    assert counts["rejected"] and counts["other_date"] and counts["ok"] > len(rows)
    check_outputs(tmp_path / "out", rows)


def test_a_run_killed_between_its_outputs_is_made_whole_by_the_rerun(tmp_path: Path) -> None:
    first = partition(tmp_path / "first", seed=1)
    summary_of(transform(str(first), tmp_path / "out"))
    raw = partition(tmp_path / "raw", seed=2)
    _, rows = independent(raw)

    killed = transform(str(raw), tmp_path / "out", fault_env("orders.after_parquet"))
    assert killed.returncode == -9, killed.stderr[-2000:]
    # The Parquet is the new date's, the CSV still the old run's: never a half-written file.
    assert read_csv(tmp_path / "out" / "orders.csv") == independent(first)[1]

    summary_of(transform(str(raw), tmp_path / "out"))
    check_outputs(tmp_path / "out", rows)
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.endswith(".tmp")]


def test_the_raw_s3_prefix_as_input(tmp_path: Path, s3_bucket: str, s3_endpoint: str) -> None:
    raw = partition(tmp_path / "raw")
    _, rows = independent(raw)
    client = s3_client(s3_endpoint)
    for path in raw.iterdir():
        client.upload_file(str(path), s3_bucket, f"raw/orders/date={DAY}/{path.name}")
    env = {"SPARK_ETL_S3_ENDPOINT": s3_endpoint, "SPARK_ETL_S3_ACCESS_KEY": "testing",
           "SPARK_ETL_S3_SECRET_KEY": "testing-secret"}  # fmt: skip

    summary = summary_of(
        transform(f"s3a://{s3_bucket}/raw/orders/date={DAY}", tmp_path / "out", env)
    )

    assert summary["files"] == 2
    check_outputs(tmp_path / "out", rows)


def test_a_missing_input_is_one_error_line(tmp_path: Path) -> None:
    res = transform(str(tmp_path / "nowhere"), tmp_path / "out")
    assert res.returncode == 2
    assert res.stderr.strip().splitlines()[-1] == f"error: input not found: {tmp_path}/nowhere"
