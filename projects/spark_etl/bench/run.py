"""The Spark job (local[2]) against the same transformation in DuckDB on the same generated,
messy landing zone: outputs compared equal, times and their ratio printed as a Markdown table.

    uv run --project projects/spark_etl python projects/spark_etl/bench/run.py --rows 1000000 4000000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duck_etl
import duckdb
from spark_etl.generate import Shape, write_landing

from de_common.benchmarks import Comparison, write_results

DAYS = 10
START = date(2026, 11, 1)


def spark_run(landing: Path, lake: Path, last: date) -> tuple[float, dict[str, object]]:
    argv = [sys.executable, "-m", "spark_etl", "run", "--source", str(landing)]
    argv += ["--output", str(lake), "--from", START.isoformat(), "--to", last.isoformat()]
    argv += ["--master", "local[2]", "--driver-memory", "3g", "--json"]
    started = time.perf_counter()
    res = subprocess.run(argv, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if res.returncode != 0:
        raise SystemExit(f"spark run failed: {res.stderr[-2000:]}")
    summary: dict[str, object] = json.loads(res.stdout)
    return elapsed, summary


def one(rows: int, folder: Path) -> dict[str, Any]:
    landing, lake = folder / f"landing-{rows}", folder / f"lake-{rows}"
    began = time.perf_counter()
    write_landing(landing, Shape(rows=rows, days=DAYS, start=START, seed=42))
    generated_s = time.perf_counter() - began
    last = START + timedelta(days=DAYS - 1)
    spark_s, summary = spark_run(landing, lake, last)
    began = time.perf_counter()
    duck = duck_etl.run(landing, START, last, lateness=2, threads=2)
    duck_s = time.perf_counter() - began
    ours = duckdb.sql(
        f"SELECT {duck_etl.DAILY_COLUMNS} FROM read_parquet('{lake}/daily/*/*.parquet', "
        "hive_partitioning = true) ORDER BY ALL"
    ).fetchall()
    assert ours == duck.daily, "daily output differs from DuckDB's"
    assert summary["records_out"] == duck.trips, "clean trip count differs from DuckDB's"
    assert summary["records_rejected"] == duck.outcomes.get("rejected", 0)
    return {
        "rows": rows,
        "generate_s": round(generated_s, 1),
        "spark_s": round(spark_s, 1),
        "duckdb_s": round(duck_s, 1),
        "ratio": round(spark_s / duck_s, 2),
        "trips_out": duck.trips,
        "daily_rows": len(duck.daily),
        "load_before": round(os.getloadavg()[0], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 4_000_000])
    parser.add_argument("--keep", type=Path, help="Work folder to keep (default: a temp one).")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="spark_etl-bench-"))
    results: list[dict[str, Any]] = []
    for rows in args.rows:
        load = os.getloadavg()[0]
        result = one(rows, folder) | {"load_before": round(load, 1)}
        print(json.dumps(result), flush=True)
        results.append(result)
    print("| rows | Spark local[2] (s) | DuckDB 2 threads (s) | Spark / DuckDB | load avg |")
    print("|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['rows']:,} | {r['spark_s']} | {r['duckdb_s']} | {r['ratio']}x | {r['load_before']} |"
        )
    save(results, " ".join(str(r) for r in args.rows))


def save(results: list[dict[str, Any]], sizes: str) -> None:
    """bench/results.json: Spark vs DuckDB at the largest size, and Spark's growth with size."""
    last = results[-1]
    loads = ", ".join(f"{r['rows']:,} rows at load {r['load_before']}" for r in results)
    comparisons = [
        Comparison(
            figure=f"batch job time, {last['rows']:,} rows",
            unit="s",
            ours=float(last["spark_s"]),
            anchor="DuckDB (same transformation, 2 threads)",
            anchor_value=float(last["duckdb_s"]),
            target=3.0,
            better="lower",
            note=f"load average {loads}",
        )
    ]
    if len(results) > 1:
        first = results[0]
        scale = last["rows"] / first["rows"]
        comparisons.append(
            Comparison(
                figure=f"Spark time at {scale:.0f}x the rows",
                unit="s",
                ours=float(last["spark_s"]),
                anchor=f"Spark at {first['rows']:,} rows",
                anchor_value=float(first["spark_s"]),
                target=1.1 * scale,
                better="lower",
                note="linear scaling: at most 1.1x the size ratio",
            )
        )
    write_results(
        Path(__file__).with_name("results.json"),
        "spark_etl",
        comparisons,
        data=f"generate.py seed 42, {DAYS} landing days, rows {sizes}: skewed zones and drivers, "
        "3% resends, late and too-late records, about 2% of lines rejected (unparseable, missing fields, out of range, unknown keys)",
        command=f"python projects/spark_etl/bench/run.py --rows {sizes}",
    )


if __name__ == "__main__":
    main()
