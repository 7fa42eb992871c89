"""Shared pieces of the integration tests: a generated landing zone, the CLI, DuckDB's view."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
from pyspark.sql import SparkSession
from spark_etl import session
from spark_etl.config import SparkEtlSettings
from spark_etl.generate import Shape, write_landing

# The DuckDB implementation lives with the benchmark, which uses it as the anchor.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import duck_etl

START = date(2026, 11, 1)
DAYS = 6
LAST = date(2026, 11, 6)
DAILY_COLUMNS = duck_etl.DAILY_COLUMNS


@pytest.fixture(scope="session")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """30,000 messy trips landed over six days (read-only for the tests: copy to change it)."""
    root = tmp_path_factory.mktemp("landing")
    write_landing(root, Shape(rows=30_000, days=DAYS, start=START, seed=11))
    return root


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    """One local[2] session per test module (a session takes seconds to start)."""
    settings = SparkEtlSettings(master="local[2]")
    # pyspark keeps one JVM per process and spark.jars.packages only counts when it launches:
    # every module asks for hadoop-aws so the s3a module works whichever module runs first.
    spark = session.start(settings, "spark_etl-tests", [session.HADOOP_AWS])
    yield spark
    spark.stop()


def expected(landing: Path, first: date = START, last: date = LAST) -> duck_etl.Result:
    """DuckDB's independent result for a run of [first, last]."""
    return duck_etl.run(landing, first, last, lateness=2)


def parquet_daily(folder: Path) -> list[tuple[Any, ...]]:
    """The daily rows Spark wrote under folder/daily, read by DuckDB."""
    if not any(folder.glob("daily/date=*/*.parquet")):
        return []
    query = (
        f"SELECT {DAILY_COLUMNS} FROM read_parquet('{folder}/daily/*/*.parquet', "
        "hive_partitioning = true) ORDER BY ALL"
    )
    return duckdb.sql(query).fetchall()


def cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> Any:
    """Run `python -m spark_etl ARGS --json` as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "spark_etl", *args, "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        timeout=600,
        check=False,
    )


def summary_of(res: Any) -> dict[str, Any]:
    """The JSON summary of a finished CLI run, asserting it exited 0."""
    assert res.returncode == 0, res.stderr[-3000:]
    data: dict[str, Any] = json.loads(res.stdout)
    return data


def assert_matches(summary: dict[str, Any], want: duck_etl.Result) -> None:
    """The run's counts equal DuckDB's, outcome by outcome and reason by reason."""
    skipped = summary["records_skipped"]
    assert summary["records_in"] == sum(want.outcomes.values())
    assert summary["records_out"] == want.trips
    assert summary["records_rejected"] == want.outcomes.get("rejected", 0)
    assert skipped["duplicate"] == want.outcomes.get("ok", 0) - want.trips
    assert skipped["other_date"] == want.outcomes.get("other_date", 0)
    assert skipped["too_late"] == want.outcomes.get("too_late", 0)
    assert summary["rejected_by_reason"] == want.reasons
