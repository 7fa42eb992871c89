"""Benchmark: csv_to_postgres (append, upsert) vs psql \\copy vs pgloader vs pandas to_sql.

One seeded CSV (5M rows x 10 mixed columns at --scale 1), the same table definition, the same
PostgreSQL, one run. Prints a table with rows/s, the ratio to psql \\copy and peak RSS; writes
bench/out/results.json. pandas to_sql(method="multi") runs on a smaller slice and its rows/s is
extrapolated (it would take hours on the full file).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg2
import pyarrow as pa
import pyarrow.csv as pcsv
import sqlalchemy as sa

OUT = Path(__file__).parent / "out"
FULL_ROWS = 5_000_000
COLUMNS = "id, user_id, amount, qty, price, category, flag, day, ts, note"
DDL = """CREATE TABLE {name} (
    id BIGINT PRIMARY KEY,
    user_id INTEGER NOT NULL,
    amount DOUBLE PRECISION,
    qty SMALLINT,
    price NUMERIC(12, 2),
    category TEXT,
    flag BOOLEAN,
    day DATE,
    ts TIMESTAMPTZ,
    note TEXT
)"""


@dataclass
class Result:
    tool: str
    rows: int
    seconds: float
    rows_per_s: float
    peak_rss_mib: float | None
    note: str = ""


def generate(path: Path, rows: int, seed: int = 42) -> None:
    """A seeded CSV with mixed types, written in slices so memory stays small."""
    rng = np.random.default_rng(seed)
    words = np.array(["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"])
    cats = np.array([f"cat_{i:02d}" for i in range(20)])
    start = np.datetime64("2020-01-01T00:00:00", "s")
    step = 500_000
    with path.open("wb") as fh:
        for lo in range(0, rows, step):
            n = min(step, rows - lo)
            secs = rng.integers(0, 4 * 365 * 86400, n)
            ts = start + secs.astype("timedelta64[s]")
            notes = pd.Series(rng.choice(words, n)) + " " + pd.Series(rng.choice(words, n))
            notes[rng.random(n) < 0.05] = '"quoted", with comma'
            amount = np.round(rng.normal(100, 50, n), 2)
            table = pa.table(
                {
                    "id": pa.array(np.arange(lo, lo + n, dtype=np.int64)),
                    "user_id": pa.array(rng.integers(1, 1_000_000, n, dtype=np.int32)),
                    "amount": pa.array(np.where(rng.random(n) < 0.02, np.nan, amount)),
                    "qty": pa.array(rng.integers(0, 500, n, dtype=np.int16)),
                    "price": pa.array([f"{v:.2f}" for v in rng.uniform(0, 9999, n)]),
                    "category": pa.array(rng.choice(cats, n)),
                    "flag": pa.array(rng.random(n) < 0.5),
                    "day": pa.array(ts.astype("datetime64[D]")),
                    "ts": pa.array(ts.astype("datetime64[us]")).cast(pa.timestamp("us", "UTC")),
                    "note": pa.array(notes.to_numpy(dtype=object), pa.string()),
                }
            )
            # NaN -> empty (NULL) so every tool reads the same text
            table = table.set_column(
                2, "amount", pa.array(np.where(np.isnan(amount), None, amount), pa.float64())
            )
            opts = pcsv.WriteOptions(include_header=lo == 0, quoting_style="needed")
            pcsv.write_csv(table, fh, opts)


def timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """(seconds, peak RSS MiB, stdout). The peak is VmHWM of the child's own address space, polled:
    rusage would also count the benchmark process itself, whose pages a forked child starts with."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.monotonic()
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err, text=True)
        peak = 0.0
        while proc.poll() is None:
            peak = max(peak, _hwm_mib(proc.pid))
            time.sleep(0.05)
        seconds = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"{cmd[0]} failed ({proc.returncode}): {err.read().strip()[-2000:]}")
        return seconds, peak, out.read()


def _hwm_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0


def precompile() -> None:
    """Bytecode for the venv and the sources, once: with PYTHONDONTWRITEBYTECODE set (as on this
    box) every run would otherwise recompile pandas & co. at startup, which a deployed image
    (pip compiles on install) never does."""
    import sysconfig

    here = Path(__file__).resolve().parents[1] / "src"
    shared = Path(__file__).resolve().parents[3] / "shared" / "src"
    paths = [sysconfig.get_paths()["purelib"], str(here), str(shared)]
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "-j", "0", *paths],
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def admin(url: str, sql: str) -> None:
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql)
    conn.close()


def count(url: str, table: str) -> int:
    conn = psycopg2.connect(url)
    with conn.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {table}")
        n = int(cur.fetchone()[0])
    conn.close()
    return n


def reset(url: str, table: str = "bench") -> None:
    admin(url, f"DROP TABLE IF EXISTS {table}")
    admin(url, DDL.format(name=table))
    admin(url, "CHECKPOINT")


def run_psql(url: str, csv: Path, rows: int) -> Result:
    reset(url)
    cmd = [
        "psql",
        url,
        "-v",
        "ON_ERROR_STOP=1",
        "-c",
        f"\\copy bench ({COLUMNS}) FROM '{csv}' WITH (FORMAT csv, HEADER true)",
    ]
    secs, rss, _ = timed(cmd)
    assert count(url, "bench") == rows
    return Result("psql \\copy", rows, secs, rows / secs, rss)


def prefill(url: str, csv: Path) -> None:
    """Untimed: the table holds every key of the bench file, with other values (another seed)."""
    reset(url)
    subprocess.run(
        [
            "psql",
            url,
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            f"\\copy bench ({COLUMNS}) FROM '{csv}' WITH (FORMAT csv, HEADER true)",
        ],
        check=True,
    )
    admin(url, "VACUUM ANALYZE bench")
    admin(url, "CHECKPOINT")


def run_ours(
    url: str, csv: Path, rows: int, mode: str, fresh: bool, other: Path | None = None
) -> Result:
    if fresh:
        reset(url)
    if other is not None:
        prefill(url, other)
    env = {**os.environ, "CSV_TO_POSTGRES_DATABASE_URL": url}
    cmd = [
        sys.executable,
        "-m",
        "csv_to_postgres",
        "--log-format",
        "json",
        "load",
        str(csv),
        "--table",
        "bench",
        "--mode",
        mode,
        "--force",
        "--json",
    ]
    secs, rss, out = timed(cmd, env)
    summary = json.loads(out)
    skipped = sum(summary["records_skipped"].values())
    balanced = (
        summary["records_in"] == summary["records_out"] + summary["records_rejected"] + skipped
    )
    assert summary["status"] == "ok" and balanced and summary["records_in"] == rows, summary
    assert count(url, "bench") == rows
    what = "new keys" if fresh else "every key exists"
    tool = f"csv_to_postgres {mode}" + (" (new keys)" if mode == "upsert" and fresh else "")
    if other is not None:
        what, tool = "every key exists, every row differs", f"{tool} (changed values)"
    else:
        what += ", same values" if mode == "upsert" and not fresh else ""
    return Result(
        tool,
        rows,
        secs,
        rows / secs,
        rss,
        f"{what}; inserted={summary['inserted']} updated={summary['updated']}"
        + (f" unchanged={summary['unchanged']}" if "unchanged" in summary else ""),
    )


def run_pgloader(url: str, csv: Path, rows: int, tmp: Path) -> Result | None:
    if shutil.which("pgloader") is None:
        return None
    reset(url)
    cols = ", ".join(c.strip() for c in COLUMNS.split(","))
    script = tmp / "bench.load"
    script.write_text(
        f"LOAD CSV FROM '{csv}' ({cols})\n"
        f"  INTO {url}?tablename=bench ({cols})\n"
        "  WITH skip header = 1, fields optionally enclosed by '\"', fields escaped by double-quote,\n"
        "       fields terminated by ',', workers = 2, concurrency = 1\n"
        "  SET work_mem to '64MB';\n"
    )
    secs, rss, _ = timed(["pgloader", "--quiet", str(script)])
    loaded = count(url, "bench")
    return Result(
        "pgloader",
        loaded,
        secs,
        loaded / secs,
        rss,
        "" if loaded == rows else f"loaded {loaded} of {rows}",
    )


def run_pandas(url: str, csv: Path, rows: int) -> Result:
    reset(url, "bench_pandas")
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg2://"))
    frame = pd.read_csv(csv, nrows=rows, parse_dates=["ts"])
    started = time.monotonic()
    frame.to_sql(
        "bench_pandas", engine, if_exists="append", index=False, method="multi", chunksize=1000
    )
    secs = time.monotonic() - started
    engine.dispose()
    assert count(url, "bench_pandas") == rows
    return Result(
        "pandas to_sql(method=multi)",
        rows,
        secs,
        rows / secs,
        None,
        f"{rows:,}-row slice, rows/s extrapolated",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of 5M rows")
    parser.add_argument("--pandas-rows", type=int, default=None, help="slice for pandas to_sql")
    parser.add_argument(
        "--repeat", type=int, default=2, help="runs of psql and ours, interleaved; best one counts"
    )
    parser.add_argument(
        "--skip",
        nargs="*",
        default=[],
        help="psql ours-append ours-upsert ours-upsert-new ours-upsert-changed pgloader pandas",
    )
    args = parser.parse_args()
    rows = max(1000, int(FULL_ROWS * args.scale))
    pandas_rows = args.pandas_rows or max(1000, min(100_000, rows // 50))

    from de_services import resolve  # the dev group's launcher

    base = os.environ.get("DE_POSTGRES_URL") or resolve("postgres")
    url = base.rsplit("/", 1)[0] + "/c2p_bench"
    admin(base, "DROP DATABASE IF EXISTS c2p_bench WITH (FORCE)")
    admin(base, "CREATE DATABASE c2p_bench")
    OUT.mkdir(exist_ok=True)
    csv = OUT / f"bench_{rows}.csv"
    if not csv.exists():
        t = time.monotonic()
        generate(csv, rows)
        print(
            f"generated {csv} ({csv.stat().st_size / 2**20:.0f} MiB) in {time.monotonic() - t:.0f}s",
            file=sys.stderr,
        )
    other = OUT / f"bench_{rows}_seed43.csv"
    if "ours-upsert-changed" not in args.skip and not other.exists():
        generate(other, rows, seed=43)  # same ids, other values
    precompile()
    steps = [
        ("psql", lambda: run_psql(url, csv, rows)),
        ("ours-append", lambda: run_ours(url, csv, rows, "append", fresh=True)),
        ("ours-upsert", lambda: run_ours(url, csv, rows, "upsert", fresh=False)),
        ("ours-upsert-new", lambda: run_ours(url, csv, rows, "upsert", fresh=True)),
        (
            "ours-upsert-changed",
            lambda: run_ours(url, csv, rows, "upsert", fresh=False, other=other),
        ),
        ("pgloader", lambda: run_pgloader(url, csv, rows, OUT)),
        ("pandas", lambda: run_pandas(url, csv, pandas_rows)),
    ]
    best: dict[str, Result] = {}
    for rep in range(args.repeat):
        for name, step in steps:
            once = name in ("pgloader", "pandas")
            if name in args.skip or (once and rep > 0):
                continue
            print(f"running {name} ({rep + 1}/{args.repeat}) ...", file=sys.stderr)
            res = step()
            if res is not None:
                print(f"  {res.tool}: {res.rows_per_s:,.0f} rows/s", file=sys.stderr)
                if res.tool not in best or res.seconds < best[res.tool].seconds:
                    best[res.tool] = res
    results = list(best.values())
    admin(base, "DROP DATABASE IF EXISTS c2p_bench WITH (FORCE)")

    ref = next((r.rows_per_s for r in results if r.tool == "psql \\copy"), None)
    pandas_rate = next((r.rows_per_s for r in results if r.tool.startswith("pandas")), None)
    print(
        f"\n{rows:,} rows, {csv.stat().st_size / 2**20:.0f} MiB CSV, shared 2-core box, "
        f"best of {args.repeat} interleaved runs (pgloader, pandas: one run)\n"
    )
    print("| tool | rows | seconds | rows/s | vs psql \\copy | peak RSS MiB | note |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for r in results:
        ratio = f"{r.rows_per_s / ref:.0%}" if ref else "-"
        rss = f"{r.peak_rss_mib:.0f}" if r.peak_rss_mib is not None else "-"
        print(
            f"| {r.tool} | {r.rows:,} | {r.seconds:.1f} | {r.rows_per_s:,.0f} | {ratio} | {rss} | {r.note} |"
        )
    ours = {r.tool: r for r in results}
    targets = []
    if ref and "csv_to_postgres append" in ours:
        a = ours["csv_to_postgres append"]
        targets.append(
            ("append >= 85% of psql \\copy", a.rows_per_s / ref, a.rows_per_s / ref >= 0.85)
        )
        if pandas_rate:
            targets.append(
                (
                    ">= 20x pandas to_sql",
                    a.rows_per_s / pandas_rate,
                    a.rows_per_s / pandas_rate >= 20,
                )
            )
        peak = max(
            (r.peak_rss_mib or 0) for t, r in ours.items() if t.startswith("csv_to_postgres")
        )
        targets.append(("peak RSS < 512 MiB", peak, peak < 512))
    for tool in (
        "csv_to_postgres upsert",
        "csv_to_postgres upsert (new keys)",
        "csv_to_postgres upsert (changed values)",
    ):
        if ref and tool in ours:
            u = ours[tool]
            label = f"{tool.removeprefix('csv_to_postgres ')} >= 50% of psql \\copy"
            targets.append((label, u.rows_per_s / ref, u.rows_per_s / ref >= 0.5))
    print()
    for name, value, ok in targets:
        shown = (
            f"{value:.0f} MiB"
            if "RSS" in name
            else (f"{value:.1f}x" if "x pandas" in name else f"{value:.0%}")
        )
        print(f"{'PASS' if ok else 'MISS'}  {name}: {shown}")
    (OUT / "results.json").write_text(
        json.dumps(
            {
                "rows": rows,
                "results": [asdict(r) for r in results],
                "targets": [{"target": n, "value": v, "met": ok} for n, v, ok in targets],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
