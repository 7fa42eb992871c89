"""Benchmark: csv_to_postgres (append, upsert) vs psql \\copy vs pgloader vs pandas to_sql.

One seeded CSV (5M rows x 10 columns at --scale 1), the same table definition, the same
PostgreSQL, one run. Two files (--data):

- realistic (default): what people export. Quoted names with commas, doubled quotes and
  embedded newlines, padded names, optional fields left empty (and some `""`), a free-text note
  where some rows say NA, N/A, NULL, None, nan, -; 2-decimal amounts, true/false, timestamps
  in four spellings (offset +00, Z, +02:00 with microseconds, none), skewed customer ids
  (Zipf), unique order ids arriving slightly out of order. The odd rows are spread through the
  whole file, so every chunk has some. Nothing in it needs transforming: psql \\copy loads it.
- plain: the earlier file (numbers, a category, a note with quoted commas); psql_ceiling.sh
  reads it.

psql \\copy loads into its own table, each of our runs into `bench`; after each run the two
tables are compared (EXCEPT ALL both ways: NULL and '' differ, duplicates count). Prints a table
with rows/s, the ratio to psql \\copy, peak RSS and whether the data is identical, and the
commands that produced it; writes bench/out/results.json. pandas to_sql(method="multi") runs on
a smaller slice and its rows/s is extrapolated (it would take hours on the full file).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
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
# Text without a zone offset means UTC for our loads; psql's session says so the same way.
PSQL_ENV = {"PGTZ": "UTC"}


@dataclass(frozen=True)
class Dataset:
    """A generated file and the table both tools load it into."""

    name: str
    columns: str
    ddl: str
    generate: Callable[[Path, int, int], None]

    def path(self, rows: int, seed: int = 42) -> Path:
        stem = "bench" if self.name == "plain" else f"bench_{self.name}"
        return OUT / (f"{stem}_{rows}.csv" if seed == 42 else f"{stem}_{rows}_seed{seed}.csv")


PLAIN_COLUMNS = "id, user_id, amount, qty, price, category, flag, day, ts, note"
PLAIN_DDL = """CREATE TABLE {name} (
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
REALISTIC_COLUMNS = "id, customer_id, name, email, amount, qty, active, signup, ts, note"
REALISTIC_DDL = """CREATE TABLE {name} (
    id BIGINT PRIMARY KEY,
    customer_id INTEGER NOT NULL,
    name TEXT,
    email TEXT,
    amount NUMERIC(12, 2),
    qty SMALLINT,
    active BOOLEAN,
    signup DATE,
    ts TIMESTAMPTZ,
    note TEXT
)"""


FIRST = ["Anna", "Jürgen", "Zoë", "Łukasz", "José", "Mary-Kate", "Li", "Seán", "Øyvind", "Renée"]
LAST = ["Smith", "O'Brien", "Müller", "van der Berg", "Nguyen", "García", "Kowalski", "田中"]
NULL_LIKE = ["NA", "N/A", "n/a", "NULL", "null", "None", "nan", "NaN", "-"]
SENTENCES = [
    "called about invoice",
    "prefers e-mail, not phone",
    'said "fine", closed the ticket',
    "delivery late; refund issued",
    "VIP",
    "moved to Zürich",
    "see notes below ",
    "paid in cash",
]


def _field(value: str | None, quote: bool = False) -> str:
    """One CSV field as an exporter writes it: None is an empty unquoted field; quoted when it
    must be (or when asked: some exporters quote every text)."""
    if value is None:
        return ""
    if quote or value == "" or any(c in value for c in ',"\n\r'):
        return '"' + value.replace('"', '""') + '"'
    return value


def _pool(rng: np.random.Generator, n: int, pool: list[tuple[str, float]]) -> np.ndarray:
    """n encoded fields drawn from (encoded field, weight) pairs."""
    fields = np.array([f for f, _ in pool], dtype=object)
    weights = np.array([w for _, w in pool])
    return fields[rng.choice(len(pool), n, p=weights / weights.sum())]


def _names() -> list[tuple[str, float]]:
    pool: list[tuple[str, float]] = [(_field(None), 2.0), (_field(""), 0.5)]
    for first in FIRST:
        for last in LAST:
            pool += [
                (_field(f"{first} {last}"), 60.0),
                (_field(f"{last}, {first}"), 20.0),  # a comma: quoted
                (_field(f'{first} "The Boss" {last}'), 4.0),  # doubled quotes
                (_field(f" {first} {last} "), 3.0),  # padded, unquoted: kept as written
                (_field(f"{first} {last}  ", quote=True), 1.0),
                (_field(f"{first} {last}\nc/o {last} GmbH, Berlin"), 2.0),  # embedded newline
            ]
    return [(f, w / len(FIRST) / len(LAST)) for f, w in pool]


def _notes() -> list[tuple[str, float]]:
    pool: list[tuple[str, float]] = [(_field(None), 20.0), (_field(""), 1.0)]
    pool += [(_field(token), 0.5 / len(NULL_LIKE)) for token in NULL_LIKE]  # text, not NULL
    pool += [(_field(token, quote=True), 0.1 / len(NULL_LIKE)) for token in NULL_LIKE]
    pool += [(_field(text), 75.0 / len(SENTENCES)) for text in SENTENCES]
    pool += [
        (_field("first line\nsecond line, with a comma"), 1.0),
        (_field('He wrote: "quoted" twice'), 1.0),
        (_field("\ttab-indented"), 0.4),
    ]
    return pool


def _optional(rng: np.random.Generator, values: pd.Series, empty: float) -> pd.Series:
    """Optional typed fields left empty (unquoted: NULL) in a share of the rows."""
    return values.where(rng.random(len(values)) >= empty, "")


def generate_realistic(path: Path, rows: int, seed: int = 42) -> None:
    """The realistic file (see the module's docstring), written in slices."""
    rng = np.random.default_rng(seed)
    names, notes = _names(), _notes()
    start = np.datetime64("2020-01-01T00:00:00", "s")
    step = 500_000
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(REALISTIC_COLUMNS.replace(" ", "") + "\n")
        for lo in range(0, rows, step):
            n = min(step, rows - lo)
            # unique keys, mostly ascending, shuffled within windows of 64 (late arrivals)
            ids = (lo + np.arange(n))[np.argsort(np.arange(n) // 64 + rng.random(n))]
            customer = np.minimum(rng.zipf(1.3, n), 1_000_000)  # a few customers, most rows
            cents = np.round(rng.normal(20_000, 15_000, n)).astype(np.int64)
            amount = pd.Series(np.char.mod("%.2f", cents / 100))
            secs = rng.integers(0, 4 * 365 * 86400, n)
            stamp = pd.Series(np.datetime_as_string(start + secs.astype("timedelta64[s]")))
            spaced = stamp.str.replace("T", " ", regex=False)
            micros = pd.Series(rng.integers(0, 1_000_000, n)).astype(str).str.zfill(6)
            style = rng.choice(4, n, p=[0.7, 0.2, 0.08, 0.02])
            ts = np.select(
                [style == 0, style == 1, style == 2],
                [spaced + "+00", stamp + "Z", spaced + "." + micros + "+02:00"],
                spaced,  # no offset: UTC for both tools (PGTZ=UTC for psql)
            )
            days = start.astype("datetime64[D]") + (secs // 86400).astype("timedelta64[D]")
            columns = [
                pd.Series(ids).astype(str),
                pd.Series(customer).astype(str),
                pd.Series(_pool(rng, n, names)),
                _optional(rng, "user" + pd.Series(customer).astype(str) + "@example.com", 0.1),
                _optional(rng, amount, 0.03),
                _optional(rng, pd.Series(rng.integers(0, 500, n)).astype(str), 0.01),
                _optional(rng, pd.Series(np.where(rng.random(n) < 0.5, "true", "false")), 0.02),
                _optional(rng, pd.Series(np.datetime_as_string(days)), 0.02),
                _optional(rng, pd.Series(ts), 0.01),
                pd.Series(_pool(rng, n, notes)),
            ]
            lines = columns[0].str.cat(columns[1:], sep=",")
            fh.write("\n".join(lines) + "\n")


@dataclass
class Result:
    tool: str
    rows: int
    seconds: float
    rows_per_s: float
    peak_rss_mib: float | None
    note: str = ""
    identical: bool | None = None  # the table equals psql \\copy's (None: not compared)
    in_process_s: float | None = None  # ours: the file's load inside the process (no start-up)


def generate_plain(path: Path, rows: int, seed: int = 42) -> None:
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


DATASETS = {
    "realistic": Dataset("realistic", REALISTIC_COLUMNS, REALISTIC_DDL, generate_realistic),
    "plain": Dataset("plain", PLAIN_COLUMNS, PLAIN_DDL, generate_plain),
}


def timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """(seconds, peak RSS MiB, stdout). The peak is VmHWM of the child's own address space,
    sampled on a thread while this one waits for the exit (so the time is exact): rusage would
    also count the benchmark process itself, whose pages a forked child starts with."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.monotonic()
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err, text=True)
        peak = [0.0]

        def sample() -> None:
            while proc.returncode is None:
                peak[0] = max(peak[0], _hwm_mib(proc.pid))
                time.sleep(0.02)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        proc.wait()
        seconds = time.monotonic() - started
        sampler.join()
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"{cmd[0]} failed ({proc.returncode}): {err.read().strip()[-2000:]}")
        return seconds, peak[0], out.read()


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


def scalar(url: str, sql: str) -> int:
    conn = psycopg2.connect(url)
    with conn.cursor() as cur:
        cur.execute("SET work_mem = '256MB'")
        cur.execute(sql)
        n = int(cur.fetchone()[0])
    conn.close()
    return n


def count(url: str, table: str) -> int:
    return scalar(url, f"SELECT count(*) FROM {table}")


def identical(url: str, ours: str, theirs: str) -> bool:
    """Row for row (EXCEPT ALL both ways: NULL and '' differ, repeated rows count)."""
    return all(
        scalar(url, f"SELECT count(*) FROM (TABLE {a} EXCEPT ALL TABLE {b}) d") == 0
        for a, b in ((ours, theirs), (theirs, ours))
    )


@dataclass(frozen=True)
class Bench:
    """Where and what one run loads."""

    url: str
    data: Dataset
    csv: Path
    rows: int

    def reset(self, table: str = "bench") -> None:
        admin(self.url, f"DROP TABLE IF EXISTS {table}")
        admin(self.url, self.data.ddl.format(name=table))
        admin(self.url, "CHECKPOINT")

    def psql_command(self, table: str, csv: Path | None = None) -> list[str]:
        copy = f"\\copy {table} ({self.data.columns}) FROM '{csv or self.csv}' "
        return [
            "psql",
            self.url,
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            copy + "WITH (FORMAT csv, HEADER true)",
        ]

    def ours_command(self, mode: str, csv: Path | None = None) -> list[str]:
        return [
            sys.executable, "-m", "csv_to_postgres", "--log-format", "json", "load",
            str(csv or self.csv), "--table", "bench", "--mode", mode, "--force", "--json",
        ]  # fmt: skip


COMMANDS: dict[str, str] = {}  # tool -> the command it ran (printed under the table)


def _shown(cmd: list[str], env: dict[str, str] | None = None) -> str:
    prefix = " ".join(f"{k}={v}" for k, v in (env or {}).items())
    return (prefix + " " if prefix else "") + shlex.join(cmd)


def run_psql(b: Bench) -> Result:
    """psql \\copy into its own table, kept for the comparisons."""
    b.reset("bench_psql")
    cmd = b.psql_command("bench_psql")
    secs, rss, _ = timed(cmd, {**os.environ, **PSQL_ENV})
    COMMANDS["psql \\copy"] = _shown(cmd, PSQL_ENV)
    assert count(b.url, "bench_psql") == b.rows
    return Result("psql \\copy", b.rows, secs, b.rows / secs, rss)


def prefill(b: Bench, csv: Path) -> None:
    """Untimed: the table holds every key of the bench file, with other values (another seed)."""
    b.reset()
    subprocess.run(
        b.psql_command("bench", csv),
        check=True,
        env={**os.environ, **PSQL_ENV},
        stdout=subprocess.DEVNULL,
    )
    admin(b.url, "VACUUM ANALYZE bench")
    admin(b.url, "CHECKPOINT")


def run_ours(b: Bench, mode: str, fresh: bool, other: Path | None = None) -> Result:
    if fresh:
        b.reset()
    if other is not None:
        prefill(b, other)
    env = {**os.environ, "CSV_TO_POSTGRES_DATABASE_URL": b.url}
    cmd = b.ours_command(mode)
    secs, rss, out = timed(cmd, env)
    summary = json.loads(out)
    skipped = sum(summary["records_skipped"].values())
    balanced = (
        summary["records_in"] == summary["records_out"] + summary["records_rejected"] + skipped
    )
    assert summary["status"] == "ok" and balanced and summary["records_in"] == b.rows, summary
    assert count(b.url, "bench") == b.rows
    what = "new keys" if fresh else "every key exists"
    tool = f"csv_to_postgres {mode}" + (" (new keys)" if mode == "upsert" and fresh else "")
    if other is not None:
        what, tool = "every key exists, every row differs", f"{tool} (changed values)"
    else:
        what += ", same values" if mode == "upsert" and not fresh else ""
    COMMANDS[tool] = _shown(["CSV_TO_POSTGRES_DATABASE_URL=" + b.url, *cmd])
    file = summary["files"][0]
    note = (
        f"{what}; inserted={summary['inserted']} updated={summary['updated']}"
        + (f" unchanged={summary['unchanged']}" if "unchanged" in summary else "")
        + f"; chunks_verbatim={file.get('chunks_verbatim', 0)}/{file.get('chunks', 0)}"
        + f"; {file['seconds']:.2f}s of it loading the file (the rest: start-up, imports)"
    )
    same = None if other is not None else identical(b.url, "bench", "bench_psql")
    return Result(tool, b.rows, secs, b.rows / secs, rss, note, same, file["seconds"])


def run_pgloader(b: Bench, tmp: Path) -> Result | None:
    if shutil.which("pgloader") is None:
        return None
    b.reset()
    cols = ", ".join(c.strip() for c in b.data.columns.split(","))
    script = tmp / "bench.load"
    script.write_text(
        f"LOAD CSV FROM '{b.csv}' ({cols})\n"
        f"  INTO {b.url}?tablename=bench ({cols})\n"
        "  WITH skip header = 1, fields optionally enclosed by '\"', fields escaped by double-quote,\n"
        "       fields terminated by ',', workers = 2, concurrency = 1\n"
        "  SET work_mem to '64MB';\n"
    )
    secs, rss, _ = timed(["pgloader", "--quiet", str(script)])
    loaded = count(b.url, "bench")
    return Result(
        "pgloader",
        loaded,
        secs,
        loaded / secs,
        rss,
        "" if loaded == b.rows else f"loaded {loaded} of {b.rows}",
    )


def run_pandas(b: Bench, rows: int) -> Result:
    b.reset("bench_pandas")
    engine = sa.create_engine(b.url.replace("postgresql://", "postgresql+psycopg2://"))
    frame = pd.read_csv(b.csv, nrows=rows, parse_dates=["ts"])
    started = time.monotonic()
    frame.to_sql(
        "bench_pandas", engine, if_exists="append", index=False, method="multi", chunksize=1000
    )
    secs = time.monotonic() - started
    engine.dispose()
    assert count(b.url, "bench_pandas") == rows
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
    parser.add_argument(
        "--data", choices=sorted(DATASETS), default="realistic", help="which generated file"
    )
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
    data = DATASETS[args.data]

    from de_services import resolve  # the dev group's launcher

    base = os.environ.get("DE_POSTGRES_URL") or resolve("postgres")
    url = base.rsplit("/", 1)[0] + "/c2p_bench"
    admin(base, "DROP DATABASE IF EXISTS c2p_bench WITH (FORCE)")
    admin(base, "CREATE DATABASE c2p_bench")
    OUT.mkdir(exist_ok=True)
    csv = data.path(rows)
    if not csv.exists():
        t = time.monotonic()
        data.generate(csv, rows, 42)
        print(
            f"generated {csv} ({csv.stat().st_size / 2**20:.0f} MiB) in {time.monotonic() - t:.0f}s",
            file=sys.stderr,
        )
    other = data.path(rows, seed=43)
    if "ours-upsert-changed" not in args.skip and not other.exists():
        data.generate(other, rows, 43)  # same ids, other values
    precompile()
    b = Bench(url, data, csv, rows)
    steps = [
        ("psql", lambda: run_psql(b)),
        ("ours-append", lambda: run_ours(b, "append", fresh=True)),
        ("ours-upsert", lambda: run_ours(b, "upsert", fresh=False)),
        ("ours-upsert-new", lambda: run_ours(b, "upsert", fresh=True)),
        ("ours-upsert-changed", lambda: run_ours(b, "upsert", fresh=False, other=other)),
        ("pgloader", lambda: run_pgloader(b, OUT)),
        ("pandas", lambda: run_pandas(b, pandas_rows)),
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
                if res.identical is False:
                    raise SystemExit(f"{res.tool}: the table differs from psql \\copy's")
                if res.tool not in best or res.seconds < best[res.tool].seconds:
                    best[res.tool] = res
    results = list(best.values())
    admin(base, "DROP DATABASE IF EXISTS c2p_bench WITH (FORCE)")
    report(args, data, csv, results)


def seconds_of(results: list[Result], tool: str) -> float | None:
    """The seconds a tool took, or None."""
    return next((r.seconds for r in results if r.tool == tool), None)


def report(args: argparse.Namespace, data: Dataset, csv: Path, results: list[Result]) -> None:
    """The table, the targets, the commands; results.json."""
    rows = max(r.rows for r in results if not r.tool.startswith("pandas"))
    ref = next((r.rows_per_s for r in results if r.tool == "psql \\copy"), None)
    pandas_rate = next((r.rows_per_s for r in results if r.tool.startswith("pandas")), None)
    print(
        f"\n{rows:,} rows, {data.name} file {csv.name} ({csv.stat().st_size / 2**20:.0f} MiB), "
        f"best of {args.repeat} interleaved runs (pgloader, pandas: one run)\n"
    )
    print("| tool | rows | seconds | rows/s | vs psql \\copy | peak RSS MiB | same data | note |")
    print("|---|---:|---:|---:|---:|---:|---|---|")
    for r in results:
        ratio = f"{r.rows_per_s / ref:.0%}" if ref else "-"
        rss = f"{r.peak_rss_mib:.0f}" if r.peak_rss_mib is not None else "-"
        same = {True: "identical", False: "DIFFERS", None: "-"}[r.identical]
        print(
            f"| {r.tool} | {r.rows:,} | {r.seconds:.1f} | {r.rows_per_s:,.0f} | {ratio} | {rss} "
            f"| {same} | {r.note} |"
        )
    ours = {r.tool: r for r in results}
    targets = []
    if ref and "csv_to_postgres append" in ours:
        a = ours["csv_to_postgres append"]
        targets.append(
            ("append >= 85% of psql \\copy", a.rows_per_s / ref, a.rows_per_s / ref >= 0.85)
        )
        targets.append(("append data identical to psql \\copy", 1.0, bool(a.identical)))
        if a.in_process_s:  # what start-up costs aside: telling at a small --scale
            ref_s = seconds_of(results, "psql \\copy")
            inside = ref_s / a.in_process_s if ref_s else 0.0
            targets.append(
                ("append without interpreter start-up >= 85% (info)", inside, inside >= 0.85)
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
        if "identical" in name:
            shown = "yes" if ok else "no"
        print(f"{'PASS' if ok else 'MISS'}  {name}: {shown}")
    print("\ncommand: " + shlex.join(["python", *sys.argv]))
    for tool, cmd in COMMANDS.items():
        print(f"  {tool}: {cmd}")
    verdicts(args, data, csv, rows, results)
    (OUT / "results.json").write_text(
        json.dumps(
            {
                "rows": rows,
                "data": data.name,
                "command": shlex.join(["python", *sys.argv]),
                "commands": COMMANDS,
                "results": [asdict(r) for r in results],
                "targets": [{"target": n, "value": v, "met": ok} for n, v, ok in targets],
            },
            indent=2,
        )
    )


# Our modes against psql \copy, and the ratio each must reach (issue 19).
TARGETS = {
    "csv_to_postgres append": ("append", 0.85),
    "csv_to_postgres upsert": ("upsert, every key exists, same values", 0.5),
    "csv_to_postgres upsert (new keys)": ("upsert, new keys", 0.5),
    "csv_to_postgres upsert (changed values)": ("upsert, every row changes", 0.5),
}


def verdicts(
    args: argparse.Namespace, data: Dataset, csv: Path, rows: int, results: list[Result]
) -> None:
    """bench/results.json (de_common.benchmarks), from which `nox -s bench` writes the tables."""
    from de_common.benchmarks import Comparison, write_results

    ref = next((r.rows_per_s for r in results if r.tool == "psql \\copy"), None)
    if not ref:
        return
    comparisons = [
        Comparison(figure, "rows/s", round(r.rows_per_s), "psql \\copy", round(ref), target)
        for r in results
        for tool, (figure, target) in TARGETS.items()
        if r.tool == tool
    ]
    size = csv.stat().st_size / 2**20
    write_results(
        Path(__file__).with_name("results.json"),
        "csv_to_postgres",
        comparisons,
        data=f"seeded {data.name} CSV, {rows:,} rows, {size:.0f} MiB; data compared equal to psql's",
        command=shlex.join(
            ["uv", "run", "nox", "-s", "bench", "--", "csv_to_postgres", *sys.argv[1:]]
        ),
    )


if __name__ == "__main__":
    main()
