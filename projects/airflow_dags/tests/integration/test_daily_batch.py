"""daily_batch through `dag.test()` against the real services: the DagRun state AND the data
(PostgreSQL, the raw partition, S3, spark_etl's Parquet and CSV, the quarantine, the Pushgateway);
a rerun of a date; a task that fails once."""

from __future__ import annotations

import hashlib
import json
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg2
import pyarrow.parquet as pq
import pytest
from airflow.dag_processing.dagbag import DagBag
from airflow_dags.config import AirflowDagsSettings

from .conftest import INVALID_EVERY, expected_ids, venvs_with

pytestmark = pytest.mark.integration

DAGS = Path(__file__).resolve().parents[2] / "src" / "airflow_dags" / "dags"


def run_day(day: int) -> Any:
    """dag.test of the interval 2024-01-<day>: a run at the next midnight, as the scheduler has it."""
    dag = DagBag(dag_folder=str(DAGS / "daily_batch.py")).dags["daily_batch"]
    run = dag.test(logical_date=datetime(2024, 1, day + 1, tzinfo=UTC))
    assert run.data_interval_start == datetime(2024, 1, day, tzinfo=UTC)
    return run


def table(url: str) -> list[tuple[Any, ...]]:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT id, updated_at, customer, email, amount, status, version FROM orders"
                    " ORDER BY id")  # fmt: skip
        rows = cur.fetchall()
    conn.close()
    return rows


def tree(folder: Path) -> dict[str, str]:
    """Every file under `folder` (the key index aside) -> its content's digest."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "_keys" not in p.name
    }


def s3_objects(env: dict[str, str], prefix: str) -> dict[str, bytes]:
    """Name under `prefix` -> content, read back from the real S3 endpoint."""
    import boto3

    s3 = boto3.client(
        "s3", endpoint_url=env["AIRFLOW_DAGS_S3_ENDPOINT_URL"], region_name="us-east-1"
    )
    bucket = env["AIRFLOW_DAGS_LAKE_URL"].removeprefix("s3://").split("/", 1)[0]
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    return {
        o["Key"].removeprefix(prefix): s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
        for o in listed
    }


def parquet_rows(lake: Path) -> list[tuple[Any, ...]]:
    """spark_etl's curated orders, every date partition: (date, id, updated_at epoch, version)."""
    root = lake / "curated" / "orders"
    if not root.exists():
        return []
    table = pq.read_table(root)  # hive partitioning: `date` from the folder names
    columns = [table.column(c).to_pylist() for c in ("date", "id", "updated_at", "version")]
    return sorted((str(d), i, u.timestamp(), v) for d, i, u, v in zip(*columns, strict=True))


def epoch(value: Any) -> float:
    """A PostgreSQL timestamp (or its ISO text) as Unix seconds."""
    if isinstance(value, datetime):
        return value.timestamp()
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


def pushed(pushgateway: str, partition: str, stage: str) -> float:
    text = urllib.request.urlopen(f"{pushgateway}/metrics", timeout=10).read().decode()
    for line in text.splitlines():
        if (line.startswith("airflow_dags_interval_rows{") and f'partition="{partition}"' in line
                and f'stage="{stage}"' in line and 'dag="daily_batch"' in line):  # fmt: skip
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no airflow_dags_interval_rows for {partition}/{stage}")


def test_one_day_loads_exactly_that_days_orders(dag_env: dict[str, str]) -> None:
    run = run_day(1)

    assert run.state == "success"
    rows = table(dag_env["AIRFLOW_DAGS_DATABASE_URL"])
    assert {int(r[0]) for r in rows} == expected_ids(1)
    assert all(str(r[1]).startswith("2024-01-01") for r in rows)
    lake = Path(dag_env["AIRFLOW_DAGS_DATA_DIR"])
    raw = lake / "raw" / "shop_open" / "orders"
    assert [p.name for p in raw.iterdir() if p.is_dir()] == ["date=2024-01-01"]
    raw_ids = {
        json.loads(line)["id"]
        for f in (raw / "date=2024-01-01").glob("*.jsonl")
        for line in f.read_text().splitlines()
    }
    assert raw_ids == expected_ids(1)
    landed = s3_objects(dag_env, "lake/raw/orders/date=2024-01-01/")
    assert landed == {
        p.name: p.read_bytes() for p in (raw / "date=2024-01-01").iterdir() if p.is_file()
    }
    quarantined = (lake / "quarantine" / "api_fetcher" / "shop_open" / "orders.jsonl").read_text()
    assert len(quarantined.splitlines()) == 1440 // INVALID_EVERY
    # spark_etl's Parquet partition of the date holds exactly the rows PostgreSQL got.
    curated = parquet_rows(lake)
    assert [(d, i) for d, i, _, _ in curated] == [("2024-01-01", int(r[0])) for r in rows]
    assert [(u, v) for _, _, u, v in curated] == [(epoch(r[1]), int(r[6])) for r in rows]
    assert list((lake / "curated" / "orders").glob("date=*")) == [
        lake / "curated" / "orders" / "date=2024-01-01"
    ]
    assert pushed(dag_env["AIRFLOW_DAGS_PUSHGATEWAY_URL"], "2024-01-01", "loaded") == len(rows)


def test_rerunning_a_date_gives_identical_results_and_leaves_other_dates(
    dag_env: dict[str, str],
) -> None:
    url, lake = dag_env["AIRFLOW_DAGS_DATABASE_URL"], Path(dag_env["AIRFLOW_DAGS_DATA_DIR"])
    assert run_day(1).state == "success"
    first_rows, first_files = table(url), tree(lake / "raw") | tree(lake / "staged")
    first_landed, first_curated = s3_objects(dag_env, "lake/raw/"), parquet_rows(lake)

    assert run_day(1).state == "success"
    assert table(url) == first_rows
    assert tree(lake / "raw") | tree(lake / "staged") == first_files
    assert s3_objects(dag_env, "lake/raw/") == first_landed
    # Dynamic overwrite: the date's partition replaced by the same rows, not added to.
    assert parquet_rows(lake) == first_curated
    day1_files = tree(lake / "curated" / "orders" / "date=2024-01-01")

    assert run_day(2).state == "success"
    rows = table(url)
    assert {int(r[0]) for r in rows} == expected_ids(1) | expected_ids(2)
    assert [r for r in rows if int(r[0]) in expected_ids(1)] == first_rows
    curated = parquet_rows(lake)
    assert {i for d, i, _, _ in curated if d == "2024-01-02"} == expected_ids(2)
    assert [r for r in curated if r[0] == "2024-01-01"] == first_curated
    assert tree(lake / "curated" / "orders" / "date=2024-01-01") == day1_files


def test_a_task_failing_once_is_retried_and_the_run_succeeds(
    dag_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # api_fetcher's venv behind a python that exits 1 on its first call, then is the real one.
    real = AirflowDagsSettings().venv("api_fetcher") / "bin" / "python"
    flaky = tmp_path / "flaky-venv"
    (flaky / "bin").mkdir(parents=True)
    marker = tmp_path / "failed-once"
    (flaky / "bin" / "python").write_text(
        "#!/bin/sh\n"
        f'if [ ! -e "{marker}" ]; then touch "{marker}"; echo "error: injected failure" >&2; '
        "exit 1; fi\n"
        f'exec "{real}" "$@"\n'
    )
    (flaky / "bin" / "python").chmod(0o755)
    monkeypatch.setenv("AIRFLOW_DAGS_VENVS", venvs_with("api_fetcher", flaky))

    run = run_day(1)

    assert marker.exists()
    assert run.state == "success"
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        tries = {
            ti.task_id: ti.try_number
            for ti in session.query(TaskInstance).filter_by(dag_id="daily_batch", run_id=run.run_id)
        }
    assert tries["fetch"] == 2 and tries["load"] == 1
    assert {int(r[0]) for r in table(dag_env["AIRFLOW_DAGS_DATABASE_URL"])} == expected_ids(1)
