"""At scale on real files: a generated 1M-line rotated log set, checked exactly.

Expected figures come from the generator's own counts and, independently, from DuckDB SQL over
the same files.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from log_analyzer.generate import GenOptions, Truth, generate, rotated_set
from log_analyzer.pipeline import Options, RunResult, analyze
from log_analyzer.report import build_report
from log_analyzer.sources import expand

pytestmark = pytest.mark.integration

N = 1_000_000
LINE_RX = (
    r'^(\S+) \S+ \S+ \[([^\]]+)\] "([A-Z]+) ([^ ]*)[^"]*" (\d{3}) (\d+|-) '
    r'"((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)" (\d+\.\d+)$'
)


@pytest.fixture(scope="module")
def logset(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], Truth]:
    folder = tmp_path_factory.mktemp("million")
    paths = rotated_set(folder)
    truth = generate(
        paths, GenOptions(lines=N, seed=2024, duration=True, malformed_every=10_007, rate_per_s=4.0)
    )
    return paths, truth


@pytest.fixture(scope="module")
def result(logset: tuple[list[Path], Truth], tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    paths, _ = logset
    out = tmp_path_factory.mktemp("out")
    return analyze(
        expand([str(p) for p in paths]),
        Options(workers=2, rejects_path=out / "rejects.jsonl"),
    )


def test_counts_match_the_generator_exactly(
    logset: tuple[list[Path], Truth], result: RunResult
) -> None:
    _, truth = logset
    assert result.format == "combined_rt"
    assert result.lines == truth.lines == N
    assert result.parsed == truth.valid
    assert result.rejected == truth.malformed
    agg = result.agg
    assert agg.requests == truth.valid
    assert agg.bytes == truth.bytes
    assert dict(agg.status) == dict(truth.status)
    assert {m: row[0] for m, row in agg.minutes.items()} == dict(truth.minutes)
    assert dict(agg.paths.counts) == dict(truth.paths)
    assert agg.bot_requests == truth.bots
    report = build_report(agg)
    expected_visitors = {
        f"{datetime.fromtimestamp(d * 86400, UTC):%Y-%m-%d}": len(s)
        for d, s in sorted(truth.visitors.items())
    }
    assert report["unique_visitors_per_day"] == expected_visitors


def test_rejects_file_names_every_malformed_line(
    logset: tuple[list[Path], Truth], result: RunResult
) -> None:
    paths, truth = logset
    assert result.rejects_path is not None
    rows = [json.loads(x) for x in Path(result.rejects_path).read_text().splitlines()]
    assert len(rows) == truth.malformed
    per_file = -(-N // len(paths))
    for r in rows:
        index = paths.index(Path(r["file"]))
        global_line = index * per_file + r["line"]
        assert global_line % 10_007 == 0  # exactly where the generator put them
        assert r["reason"]


def test_latency_percentiles_and_visitors_match_duckdb(
    logset: tuple[list[Path], Truth], result: RunResult
) -> None:
    paths, _ = logset
    files = ", ".join(f"'{p}'" for p in paths)
    con = duckdb.connect()
    con.execute(
        f"""
        CREATE TABLE t AS
        SELECT regexp_extract(line, '{LINE_RX}', ['ip','time','method','path','status','bytes','ref','ua','rt']) AS r
        FROM read_csv([{files}], columns={{'line': 'VARCHAR'}}, delim='\\x01', quote='', escape='',
                      header=false, auto_detect=false, ignore_errors=true)
        """
    )
    con.execute(
        """
        CREATE TABLE p AS SELECT
          strptime(r.time, '%d/%b/%Y:%H:%M:%S %z') AS ts, r.ip AS ip, r.ua AS ua,
          round(CAST(r.rt AS DOUBLE) * 1000)::BIGINT AS ms
        FROM t WHERE r.ip <> ''
        """
    )
    report = build_report(result.agg)
    lat = report["latency_ms"]
    for q in (0.5, 0.9, 0.95, 0.99):
        (want,) = con.execute(
            f"""SELECT min(ms) FROM (SELECT ms, row_number() OVER (ORDER BY ms) AS rn,
                count(*) OVER () AS n FROM p) WHERE rn >= ceil({q} * n)"""
        ).fetchone()
        assert lat[f"p{round(q * 100)}"] == float(want)
    visitors = dict(
        con.execute(
            """SELECT strftime(timezone('UTC', ts), '%Y-%m-%d'), count(DISTINCT (ip, ua))
               FROM p GROUP BY 1 ORDER BY 1"""
        ).fetchall()
    )
    assert report["unique_visitors_per_day"] == visitors
    (n,) = con.execute("SELECT count(*) FROM p").fetchone()
    assert n == result.parsed


def test_cli_json_and_parquet_agree(logset: tuple[list[Path], Truth], tmp_path: Path) -> None:
    paths, truth = logset
    parquet = tmp_path / "pq"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "log_analyzer",
            "analyze",
            *map(str, paths),
            "--json",
            "--workers",
            "2",
            "--parquet",
            str(parquet),
            "--rejects-file",
            str(tmp_path / "rej.jsonl"),
            "--since",
            "2024-01-02",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
        env=dict(os.environ),
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout)
    assert out["status"] == "ok"
    filtered = out["records_skipped"]["filtered"]
    assert out["records_in"] == out["records_out"] + out["records_rejected"] + filtered
    assert out["records_rejected"] == truth.malformed
    first_day = sum(n for m, n in truth.minutes.items() if m * 60 < 1_704_153_600)
    assert out["records_skipped"] == {"filtered": first_day}
    con = duckdb.connect()
    (rows, days) = con.execute(
        f"SELECT count(*), count(DISTINCT date) FROM read_parquet('{parquet}/date=*/*.parquet', hive_partitioning=true)"
    ).fetchone()
    assert rows == out["records_out"]
    assert days == len(list(parquet.glob("date=*")))
    assert not list(parquet.glob(".tmp-*"))
