"""Benchmark: log_analyzer vs GoAccess vs DuckDB SQL on the same seeded combined log.

    nox -s bench -- log_analyzer [--scale 0.05] [--workers 2]

--scale 1 is a ~2 GB log. Peak RSS of ours is measured at 1x and at 4x the input (the same file
listed four times through hard links, so the 4x run reads four times the bytes).
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
from pathlib import Path

import psutil
from log_analyzer.generate import GenOptions, generate

HERE = Path(__file__).resolve().parent
FULL_BYTES = 2 * 1024**3
AVG_LINE = 205  # bytes per generated combined line, measured on the generator's output

DUCKDB_SQL = r"""
import sys, time, json, duckdb
files = sys.argv[1].split(",")
threads = int(sys.argv[2])
con = duckdb.connect()
con.execute(f"SET threads={threads}")
con.execute("SET enable_progress_bar=false")
rx = r'^(\S+) \S+ \S+ \[([^\]]+)\] "((?:[^"\\]|\\.)*)" (\d{3}) (\d+|-) "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)"$'
src = ", ".join(f"'{f}'" for f in files)
con.execute(f'''
CREATE TEMP TABLE p AS
WITH raw AS (
  SELECT regexp_extract(line, '{rx}', ['ip','time','request','status','bytes','referer','ua']) AS r
  FROM read_csv([{src}], columns={{'line': 'VARCHAR'}}, delim='\x01', quote='', escape='',
                header=false, auto_detect=false)
)
SELECT r.ip AS ip, strptime(r.time, '%d/%b/%Y:%H:%M:%S %z') AS ts,
       split_part(regexp_replace(split_part(r.request, ' ', 2), '\?.*$', ''), ' ', 1) AS path,
       r.status::INT AS status, CASE WHEN r.bytes = '-' THEN 0 ELSE r.bytes::BIGINT END AS bytes,
       r.referer AS referer, r.ua AS ua
FROM raw WHERE r.ip <> ''
''')
out = {}
out["totals"] = con.execute("SELECT count(*), sum(bytes) FROM p").fetchall()
out["status"] = con.execute("SELECT status, count(*) FROM p GROUP BY 1").fetchall()
for col in ("path", "ip", "ua", "referer"):
    out["top_" + col] = con.execute(
        f"SELECT {col}, count(*) c FROM p GROUP BY 1 ORDER BY c DESC LIMIT 10").fetchall()
out["minutes"] = con.execute(
    "SELECT date_trunc('minute', ts) m, count(*), count(*) FILTER (status >= 400 AND status < 500),"
    " count(*) FILTER (status >= 500), sum(bytes) FROM p GROUP BY 1").fetchall()
out["visitors"] = con.execute(
    "SELECT CAST(timezone('UTC', ts) AS DATE), count(DISTINCT (ip, ua)) FROM p GROUP BY 1").fetchall()
out["bots"] = con.execute(
    "SELECT count(*) FROM p WHERE regexp_matches(ua, '(?i)bot|crawl|spider|curl|python-requests')"
).fetchall()
print(json.dumps({"requests": out["totals"][0][0], "minutes": len(out["minutes"])}))
"""


def measure(cmd: list[str], env: dict[str, str] | None = None) -> dict[str, float | str]:
    """Wall time and peak RSS of a command and all its children (psutil polling, 50 ms)."""
    start = time.perf_counter()
    # files, not pipes: a child blocked on a full pipe would stall while we only poll its memory
    with tempfile.TemporaryFile() as out_f, tempfile.TemporaryFile() as err_f:
        proc = subprocess.Popen(cmd, stdout=out_f, stderr=err_f, env=env)
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scale", type=float, default=1.0, help="1.0 = ~2 GB of log")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", type=Path, default=HERE / "out")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    log = args.out / f"access-{args.scale:g}.log"
    lines = int(FULL_BYTES * args.scale / AVG_LINE)
    if not log.exists():
        t = time.perf_counter()
        generate([log], GenOptions(lines=lines, seed=args.seed, count_visitors=False))
        print(
            f"generated {log} ({log.stat().st_size / 2**20:.0f} MiB) in {time.perf_counter() - t:.0f}s"
        )
    size = log.stat().st_size
    n_lines = lines
    quad = []
    for i in range(4):
        link = args.out / f"x4-{args.scale:g}" / f"copy{i}.log"
        link.parent.mkdir(exist_ok=True)
        if not link.exists():
            os.link(log, link)
        quad.append(str(link))

    py = sys.executable
    ours_cmd = [
        py,
        "-m",
        "log_analyzer",
        "--log-format",
        "json",
        "analyze",
        "--format",
        "combined",
        "--json",
        "--workers",
        str(args.workers),
        "--rejects-file",
        str(args.out / "rejects.jsonl"),
    ]
    results: dict[str, dict[str, float | str]] = {}
    results["log_analyzer"] = measure([*ours_cmd, str(log)])
    ours = json.loads(str(results["log_analyzer"]["stdout"]))
    results["log_analyzer 4x input"] = measure([*ours_cmd, *quad])
    quad_out = json.loads(str(results["log_analyzer 4x input"]["stdout"]))
    results["duckdb"] = measure([py, "-c", DUCKDB_SQL, str(log), str(args.workers)])
    duck = json.loads(str(results["duckdb"]["stdout"]))
    goaccess = shutil.which("goaccess")
    if goaccess:
        ga_json = args.out / "goaccess.json"
        results["goaccess"] = measure(
            [goaccess, str(log), "--log-format=COMBINED", "-o", str(ga_json), "--no-progress"]
        )
        ga = json.loads(ga_json.read_text())
        ga_total = ga["general"]["total_requests"]
    else:
        ga_total = None
    assert ours["records_in"] == n_lines, (ours["records_in"], n_lines)
    assert ours["report"]["totals"]["requests"] == duck["requests"], "ours and DuckDB disagree"
    assert quad_out["records_in"] == 4 * n_lines

    mb = size / 2**20
    print()
    print(
        f"input: {mb:,.0f} MiB, {n_lines:,} lines (combined); workers/threads: {args.workers}; "
        f"{os.cpu_count()} cores, shared"
    )
    print(
        f"{'tool':<24}{'wall s':>9}{'MiB/s':>9}{'lines/s':>12}{'peak RSS MiB':>14}{'our time / theirs':>18}"
    )
    base = float(results["log_analyzer"]["wall_s"])
    for name, r in results.items():
        wall = float(r["wall_s"])
        factor = 4 if "4x" in name else 1
        ratio = "" if name.startswith("log_analyzer") else f"{base / wall:.2f}"
        print(
            f"{name:<24}{wall:>9.1f}{factor * mb / wall:>9.0f}{factor * n_lines / wall:>12,.0f}"
            f"{float(r['peak_rss_mib']):>14.0f}{ratio:>18}"
        )
    print(
        f"\nrequests: ours {ours['report']['totals']['requests']:,}, duckdb {duck['requests']:,}, "
        f"goaccess {ga_total if ga_total is not None else 'n/a'}"
    )
    summary = {
        "scale": args.scale,
        "bytes": size,
        "lines": n_lines,
        "workers": args.workers,
        **{
            k: {"wall_s": v["wall_s"], "peak_rss_mib": v["peak_rss_mib"]}
            for k, v in results.items()
        },
    }
    (args.out / f"results-{args.scale:g}.json").write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
