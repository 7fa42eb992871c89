"""Benchmark: log_analyzer vs DuckDB SQL (and GoAccess) on seeded combined logs, in one run.

    nox -s bench -- log_analyzer [--scale 0.12] [--workers N] [--repeat 3]

Inputs, generated once into --out (seeded, so every run reads the same bytes):

- messy: the combined log with 1 hostile line in 100, spread evenly through the whole file
  (truncated lines with an unbalanced quote, random bytes, NUL runs, empty lines, invalid UTF-8);
- clean: the same log with exactly those lines removed (the generator draws hostile lines from their
  own random stream, so the valid lines are the same);
- 4x: a messy log with 4x the lines and 4x the distinct IPs, paths and visitors (a generated file,
  not a link: distinct keys grow with it), over the same time span.

--scale 1 is ~2 GB for clean and messy (8 GB for 4x). Ours runs with its default workers (the CPUs
the process may use) and DuckDB with its default threads, unless --workers sets both. DuckDB reads
each file as lines with store_rejects and computes the same report (totals, status counts, bytes,
top paths, hourly counts, visitors per day, bots); the run fails unless ours equals DuckDB's figures
and the generator's truth. Timings are best of --repeat runs, interleaved.
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
import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import psutil
from log_analyzer.config import available_cpus
from log_analyzer.generate import GenOptions, Truth, generate

HERE = Path(__file__).resolve().parent
FULL_BYTES = 2 * 1024**3
AVG_LINE = 205  # bytes per generated combined line, measured on the generator's output
HOSTILE_EVERY = 100

DUCKDB_SQL = r"""
import sys, json, duckdb
path, threads = sys.argv[1], int(sys.argv[2])
con = duckdb.connect()
if threads:
    con.execute(f"SET threads={threads}")
con.execute("SET enable_progress_bar=false")
con.execute("SET TimeZone='UTC'")
rx = r'^(\S+) \S+ \S+ \[([^\]]+)\] "((?:[^"\\]|\\.)*)" (\d{3}) (\d+|-) "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)"$'
con.execute(f'''
CREATE TEMP TABLE raw AS
SELECT regexp_extract(line, '{rx}', ['ip','time','request','status','bytes','referer','ua']) AS r
FROM read_csv('{path}', columns={{'line': 'VARCHAR'}}, delim='\x01', quote='', escape='',
              header=false, auto_detect=false, strict_mode=false, store_rejects=true)
''')
con.execute('''
CREATE TEMP TABLE p AS
SELECT r.ip AS ip, strptime(r.time, '%d/%b/%Y:%H:%M:%S %z') AS ts,
       split_part(regexp_replace(split_part(r.request, ' ', 2), '\?.*$', ''), ' ', 1) AS path,
       r.status::INT AS status, CASE WHEN r.bytes = '-' THEN 0 ELSE r.bytes::BIGINT END AS bytes,
       r.referer AS referer, r.ua AS ua
FROM raw WHERE r.ip <> ''
''')
q = lambda sql: con.execute(sql).fetchall()
out = {
    "rows_read": q("SELECT count(*) FROM raw")[0][0],
    "read_rejects": q("SELECT count(*) FROM reject_errors")[0][0],
    "requests": q("SELECT count(*) FROM p")[0][0],
    "bytes": q("SELECT coalesce(sum(bytes), 0) FROM p")[0][0],
    "status": {str(s): n for s, n in q("SELECT status, count(*) FROM p GROUP BY 1")},
    "paths": dict(q("SELECT path, count(*) FROM p GROUP BY 1")),
    "top": {c: q(f"SELECT {c}, count(*) n FROM p GROUP BY 1 ORDER BY n DESC LIMIT 10")
            for c in ("ip", "ua", "referer")},
    "hours": {h: n for h, n in q("SELECT strftime(date_trunc('hour', ts), '%Y-%m-%dT%H'), count(*) "
                                  "FROM p GROUP BY 1")},
    "minutes": q("SELECT count(DISTINCT date_trunc('minute', ts)) FROM p")[0][0],
    "visitors": dict(q("SELECT strftime(ts, '%Y-%m-%d'), count(DISTINCT (ip, ua)) FROM p GROUP BY 1")),
    "bots": q("SELECT count(*) FROM p WHERE "
              "regexp_matches(ua, '(?i)bot|crawl|spider|curl|python-requests')")[0][0],
}
print(json.dumps(out))
"""


def measure(cmd: list[str]) -> dict[str, Any]:
    """Wall time and peak RSS of a command and all its children (psutil polling, 50 ms)."""
    start = time.perf_counter()
    # files, not pipes: a child blocked on a full pipe would stall while we only poll its memory
    with tempfile.TemporaryFile() as out_f, tempfile.TemporaryFile() as err_f:
        proc = subprocess.Popen(cmd, stdout=out_f, stderr=err_f)
        ps = psutil.Process(proc.pid)
        peak = 0
        while proc.poll() is None:
            try:
                rss = ps.memory_info().rss + sum(
                    c.memory_info().rss for c in ps.children(recursive=True)
                )
                peak = max(peak, rss)
            except psutil.Error:
                pass
            time.sleep(0.05)
        wall = time.perf_counter() - start
        out_f.seek(0)
        err_f.seek(0)
        out, err = out_f.read(), err_f.read()
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed ({proc.returncode}): {err.decode()[-2000:]}")
    return {
        "wall_s": round(wall, 2),
        "peak_rss_mib": round(peak / 2**20, 1),
        "stdout": out.decode(),
    }


def make_input(path: Path, opts: GenOptions) -> Truth:
    """Generate `path` (or reuse it) and return the generator's counts, cached beside it."""
    meta = path.with_suffix(".truth.json")
    if path.exists() and meta.exists():
        raw = json.loads(meta.read_text())
        return Truth(
            **{k: v for k, v in raw.items() if k not in ("status", "paths", "hostile")},
            status=Counter({int(k): v for k, v in raw["status"].items()}),
            paths=Counter(raw["paths"]),
            hostile=Counter(raw["hostile"]),
        )
    started = time.perf_counter()
    truth = generate([path], opts)
    fields = ("lines", "valid", "malformed", "bytes", "bots", "latin1")
    saved = {k: getattr(truth, k) for k in fields}
    saved.update(status=truth.status, paths=truth.paths, hostile=truth.hostile)
    meta.write_text(json.dumps(saved))
    size = path.stat().st_size / 2**20
    print(f"generated {path} ({size:,.0f} MiB) in {time.perf_counter() - started:.0f}s")
    return truth


def check_ours(name: str, out: dict[str, Any], truth: Truth) -> None:
    """Our summary and report against what the generator wrote."""
    report = out["report"]
    got = (out["records_in"], out["records_out"], out["records_rejected"], out["latin1_lines"])
    want = (truth.lines, truth.valid, truth.malformed, truth.latin1)
    assert got == want, f"{name}: (in, out, rejected, latin1) {got} != generator's {want}"
    assert report["totals"]["bytes"] == truth.bytes, f"{name}: bytes differ from the generator's"
    status = {str(k): v for k, v in sorted(truth.status.items())}
    assert report["status_codes"] == status, f"{name}: status counts differ from the generator's"
    assert report["bots"]["bot_requests"] == truth.bots, f"{name}: bots differ from the generator's"


def check_duckdb(name: str, out: dict[str, Any], duck: dict[str, Any]) -> None:
    """Our report against DuckDB's figures over the same file."""
    report = out["report"]
    hours: Counter[str] = Counter()
    for row in report["timeline"]["rows"]:
        hours[row["t"][:13]] += row["requests"]
    pairs = [
        ("requests", report["totals"]["requests"], duck["requests"]),
        ("bytes", report["totals"]["bytes"], duck["bytes"]),
        ("status counts", report["status_codes"], duck["status"]),
        ("hourly counts", dict(hours), duck["hours"]),
        ("visitors per day", report["unique_visitors_per_day"], duck["visitors"]),
        ("bots", report["bots"]["bot_requests"], duck["bots"]),
        ("top path counts", [n for _, n in report["top"]["paths"]], _top(duck["paths"])),
        ("top paths", {p: duck["paths"].get(p) for p, _ in report["top"]["paths"]},
         dict(report["top"]["paths"])),
    ]  # fmt: skip
    for what, ours, theirs in pairs:
        assert ours == theirs, f"{name}: {what} differ from DuckDB's"
    for col, key in (("ip", "ips"), ("ua", "user_agents"), ("referer", "referrers")):
        want = [n for v, n in duck["top"][col] if col != "referer" or v not in ("-", "")]
        got = [n for _, n in report["top"][key]]
        assert got[: len(want)] == want[: len(got)], (
            f"{name}: top {key} counts differ from DuckDB's"
        )


def _top(counts: dict[str, int], n: int = 10) -> list[int]:
    return sorted(counts.values(), reverse=True)[:n]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--scale", type=float, default=1.0, help="1.0 = ~2 GB of log (clean, messy)")
    ap.add_argument(
        "--workers", type=int, default=0, help="ours --workers and DuckDB threads (0 = defaults)"
    )
    ap.add_argument(
        "--repeat", type=int, default=1, help="time each command N times, keep the best"
    )
    ap.add_argument("--out", type=Path, default=HERE / "out")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-goaccess", action="store_true", help="skip GoAccess")
    args = ap.parse_args()
    command = shlex.join([Path(sys.executable).name, *sys.argv])
    args.out.mkdir(parents=True, exist_ok=True)
    lines = int(FULL_BYTES * args.scale / AVG_LINE)
    base = GenOptions(lines=lines, seed=args.seed, count_visitors=False)
    tag = f"{args.scale:g}-{args.seed}"
    inputs = {
        "messy": replace(base, hostile_every=HOSTILE_EVERY),
        "clean": replace(base, lines=lines - lines // HOSTILE_EVERY),
        "4x": replace(
            base,
            lines=4 * lines,
            hostile_every=HOSTILE_EVERY,
            n_ips=4 * base.n_ips,
            n_products=4 * base.n_products,
            rate_per_s=4 * base.rate_per_s,
        ),
    }
    paths = {k: args.out / f"{k}-{tag}.log" for k in inputs}
    truth = {k: make_input(paths[k], opts) for k, opts in inputs.items()}

    py = sys.executable
    ours = [py, "-m", "log_analyzer", "--log-format", "json", "analyze", "--format", "combined"]
    ours += ["--json", "--rejects-file", str(args.out / "rejects.jsonl")]
    if args.workers:
        ours += ["--workers", str(args.workers)]
    cases: dict[str, tuple[str, list[str]]] = {
        "log_analyzer clean": ("clean", [*ours, str(paths["clean"])]),
        "log_analyzer messy": ("messy", [*ours, str(paths["messy"])]),
        "DuckDB SQL clean": ("clean", [py, "-c", DUCKDB_SQL, str(paths["clean"]), str(args.workers)]),
        "DuckDB SQL messy": ("messy", [py, "-c", DUCKDB_SQL, str(paths["messy"]), str(args.workers)]),
    }  # fmt: skip
    empty = args.out / "empty.log"  # start-up: interpreter, imports, one line
    empty.write_bytes(b"\n")
    cases["log_analyzer start-up"] = ("empty", [*ours, str(empty)])
    results: dict[str, dict[str, Any]] = {}
    for _ in range(args.repeat):
        for name, (_, cmd) in cases.items():
            r = measure(cmd)
            best = results.setdefault(name, r)
            best["wall_s"] = min(best["wall_s"], r["wall_s"])
            best["peak_rss_mib"] = max(best["peak_rss_mib"], r["peak_rss_mib"])
    results["log_analyzer 4x distinct"] = measure([*ours, str(paths["4x"])])
    cases["log_analyzer 4x distinct"] = ("4x", [])
    goaccess = shutil.which("goaccess")
    if goaccess and not args.no_goaccess:
        ga_json = args.out / "goaccess.json"
        cmd = [goaccess, str(paths["clean"]), "--log-format=COMBINED", "-o", str(ga_json)]
        results["GoAccess clean"] = measure([*cmd, "--no-progress"])
        cases["GoAccess clean"] = ("clean", [])
        ga_total = json.loads(ga_json.read_text())["general"]["total_requests"]
        assert ga_total == truth["clean"].valid, f"GoAccess counted {ga_total} requests"

    out = {k: json.loads(results[f"log_analyzer {k}"]["stdout"]) for k in ("clean", "messy")}
    out["4x"] = json.loads(results["log_analyzer 4x distinct"]["stdout"])
    duck = {k: json.loads(results[f"DuckDB SQL {k}"]["stdout"]) for k in ("clean", "messy")}
    for k in ("clean", "messy", "4x"):
        check_ours(k, out[k], truth[k])
    for k in ("clean", "messy"):
        check_duckdb(k, out[k], duck[k])
    _print(Run(args, command, paths, truth, cases, results, out, duck))


@dataclass
class Run:
    """One benchmark run: what was asked, the inputs and their truth, what each tool said."""

    args: argparse.Namespace
    command: str
    paths: dict[str, Path]  # input -> file
    truth: dict[str, Truth]
    cases: dict[str, tuple[str, list[str]]]  # row -> (input, command)
    results: dict[str, dict[str, Any]]  # row -> wall_s, peak_rss_mib, stdout
    out: dict[str, dict[str, Any]]  # input -> our summary
    duck: dict[str, dict[str, Any]]  # input -> DuckDB's figures


def _verdicts(
    run: Run, size: dict[str, int], wall: dict[str, float], duck_wall: float, rss_4x: float
) -> None:
    """bench/results.json (de_common.benchmarks), from which `nox -s bench` writes the tables."""
    from de_common.benchmarks import Comparison, write_results

    mib = {k: v / 2**20 for k, v in size.items()}
    per_gib = {k: round(wall[k] / mib[k] * 1024, 2) for k in wall}
    comparisons = [
        Comparison(f"messy log ({mib['messy']:,.0f} MiB), same report", "s", round(wall["messy"], 1),
                   "DuckDB SQL", round(duck_wall, 1), 1.0, "lower"),
        Comparison("hostile lines: time per MiB, messy vs clean", "s/GiB", per_gib["messy"],
                   "log_analyzer on the clean log", per_gib["clean"], 1.2, "lower"),
        Comparison("peak RSS, 4x distinct keys", "MiB", round(rss_4x), "budget (issue 19)", 512,
                   1.0, "lower"),
    ]  # fmt: skip
    goaccess = run.results.get("GoAccess clean")
    if goaccess:
        comparisons.append(
            Comparison(
                f"clean log ({mib['clean']:,.0f} MiB), report",
                "s",
                round(wall["clean"], 1),
                "GoAccess",
                round(float(goaccess["wall_s"]), 1),
                1.0,
                "lower",
            )
        )
    write_results(
        Path(__file__).with_name("results.json"),
        "log_analyzer",
        comparisons,
        data=(
            "seeded combined logs: messy with 1 hostile line in 100 spread through the file, the "
            "same log clean, and a 4x-distinct-keys messy log; every figure equal to DuckDB's and "
            "the generator's"
        ),
        command=run.command,
    )


def _print(run: Run) -> None:
    args, command, paths, truth = run.args, run.command, run.paths, run.truth
    cases, results, out, duck = run.cases, run.results, run.out, run.duck
    size = {k: p.stat().st_size for k, p in paths.items()}
    startup = float(results.pop("log_analyzer start-up")["wall_s"])
    workers = args.workers or f"default ({available_cpus()})"
    print(f"\n$ {command}")
    print(
        f"workers/threads: {workers}; {available_cpus()} CPUs usable, {os.cpu_count()} online; "
        f"best of {args.repeat}"
    )
    for k, p in paths.items():
        t = truth[k]
        print(
            f"  {k:<6} {p.name}: {size[k] / 2**20:,.0f} MiB, {t.lines:,} lines, "
            f"{t.malformed:,} hostile ({dict(t.hostile)}), {t.latin1:,} not UTF-8"
        )
    head = f"{'tool':<26}{'input':>7}{'wall s':>9}{'MiB/s':>8}{'lines/s':>12}{'peak RSS MiB':>14}"
    print(f"\n{head}{'our time / theirs':>19}")
    for name, r in results.items():
        k = cases[name][0]
        wall = float(r["wall_s"])
        theirs = results.get(f"log_analyzer {k}")
        ratio = "" if name.startswith("log_analyzer") or theirs is None else theirs["wall_s"] / wall
        print(
            f"{name:<26}{k:>7}{wall:>9.1f}{size[k] / 2**20 / wall:>8.0f}"
            f"{truth[k].lines / wall:>12,.0f}{float(r['peak_rss_mib']):>14.0f}"
            f"{ratio if isinstance(ratio, str) else f'{ratio:.2f}':>19}"
        )
    wall = {k: float(results[f"log_analyzer {k}"]["wall_s"]) for k in ("clean", "messy")}
    duck_wall = float(results["DuckDB SQL messy"]["wall_s"])
    hostile_ratio = (wall["messy"] / size["messy"]) / (wall["clean"] / size["clean"])
    net = {k: (wall[k] - startup) / size[k] for k in wall}
    vs_duck = wall["messy"] / duck_wall
    rss_4x = results["log_analyzer 4x distinct"]["peak_rss_mib"]
    d = duck["messy"]
    print(
        f"\nmessy: ours {out['messy']['records_out']:,} requests, "
        f"{out['messy']['records_rejected']:,} rejected {out['messy']['reject_reasons']}, "
        f"{out['messy']['fallback_lines']:,} lines through the regex fallback; DuckDB "
        f"{d['requests']:,} requests of {d['rows_read']:,} rows read, {d['read_rejects']:,} rows "
        f"rejected by read_csv (store_rejects), {d['rows_read'] - d['requests']:,} rows not matching"
    )
    print(
        "all figures equal DuckDB's and the generator's (clean, messy); 4x equals the generator's"
    )
    print(
        f"our start-up (a one-line file): {startup:.1f}s; net of it: messy / clean time per byte "
        f"{net['messy'] / net['clean']:.2f}, ours / DuckDB on messy "
        f"{(wall['messy'] - startup) / duck_wall:.2f}"
    )
    targets = [
        ("hostile lines: messy / clean time per byte <= 1.2", hostile_ratio, 1.2),
        ("ours / DuckDB on messy <= 1.0", vs_duck, 1.0),
        ("peak RSS at 4x distinct <= 512 MiB", rss_4x, 512),
    ]
    for what, got, limit in targets:
        print(f"  {'met' if got <= limit else 'MISSED':<7}{what}: {got:.2f}")
    _verdicts(run, size, wall, duck_wall, float(rss_4x))
    summary = {
        "command": command,
        "scale": args.scale,
        "workers": args.workers or available_cpus(),
        "repeat": args.repeat,
        "bytes": size,
        "lines": {k: t.lines for k, t in truth.items()},
        "startup_s": startup,
        "hostile_per_byte_ratio": round(hostile_ratio, 3),
        "hostile_per_byte_ratio_net_of_startup": round(net["messy"] / net["clean"], 3),
        "ours_over_duckdb_messy": round(vs_duck, 3),
        **{k: {"input": cases[k][0], "wall_s": v["wall_s"], "peak_rss_mib": v["peak_rss_mib"]}
           for k, v in results.items()},
    }  # fmt: skip
    (args.out / f"results-{args.scale:g}.json").write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
