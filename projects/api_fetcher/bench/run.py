"""api_fetcher vs a plain sequential requests loop vs dlt's rest_api source (parallelized resources),
all fetching the same pages from the bundled API (20 ms per page, 1% of pages answering 429 or 500
first) into Parquet, in one run; the records verified equal across the three; our peak memory at 1x
and 4x the pages.

    uv run nox -s bench -- api_fetcher                      # the full run: 5,000 pages of 100
    uv run nox -s bench -- api_fetcher --pages 500          # a small one

Each tool runs in its own process; peak memory is that process's maximum RSS (os.wait4).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

ENDPOINTS = 5
STEP_S = 60  # the demo API's orders are one minute apart
BASE = datetime(2024, 1, 1, tzinfo=UTC)


def iso(minutes: int) -> str:
    return (BASE + timedelta(seconds=minutes * STEP_S)).strftime("%Y-%m-%dT%H:%M:%SZ")


def windows(records: int) -> list[tuple[str, str]]:
    """The dataset cut into ENDPOINTS time windows: one endpoint (resource) each."""
    share = records // ENDPOINTS
    return [(iso(k * share), iso((k + 1) * share)) for k in range(ENDPOINTS)]


def start_api(records: int, args: argparse.Namespace) -> tuple[subprocess.Popen[str], str]:
    argv = [
        sys.executable, "-m", "api_fetcher", "demo-api", "--port", "0",
        "--records", str(records), "--latency-ms", str(args.latency_ms),
        "--fault-rate", str(args.fault_rate),
    ]  # fmt: skip
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    assert url.startswith("http://127.0.0.1:"), url
    return proc, url


def timed(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, int, str]:
    """Wall seconds, peak RSS (MiB) and stdout of a child process."""
    started = time.perf_counter()
    out_path = cwd / f"stdout-{time.monotonic_ns()}.txt"
    with out_path.open("w") as out:
        proc = subprocess.Popen(
            argv, cwd=cwd, stdout=out, stderr=subprocess.DEVNULL, env={**os.environ, **(env or {})}
        )
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{argv[:4]} failed with {os.waitstatus_to_exitcode(status)}")
    return seconds, usage.ru_maxrss // 1024, out_path.read_text()


def ours(
    url: str, folder: Path, records: int, args: argparse.Namespace
) -> tuple[float, int, list[int]]:
    endpoints = "".join(
        f"""
      - name: orders_{k}
        path: /page/orders
        params: {{updated_since: "{lo}", updated_before: "{hi}"}}
        records_path: data
        primary_key: id
        pagination: {{type: page_number, size: {args.per_page}, total_pages_path: meta.total_pages}}"""
        for k, (lo, hi) in enumerate(windows(records))
    )
    folder.mkdir(parents=True)
    (folder / "sources.yaml").write_text(
        f"sources:\n  - name: bench\n    base_url: {url}/open\n    endpoints:{endpoints}\n"
    )
    argv = [
        sys.executable,
        "-m",
        "api_fetcher",
        "run",
        "--sink",
        "parquet",
        "--concurrency",
        str(args.concurrency),
        "--json",
    ]
    seconds, peak, out = timed(argv, folder, {"API_FETCHER_BACKOFF_S": "0.1"})
    summary = json.loads(out)
    assert summary["status"] == "ok", summary
    return seconds, peak, ids_in(folder / "data")


SEQUENTIAL = textwrap.dedent(
    """
    import sys, time, json
    from pathlib import Path
    import pyarrow as pa, pyarrow.parquet as pq, requests
    url, out, per_page, windows = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), json.loads(sys.argv[4])
    out.mkdir(parents=True)
    session = requests.Session()
    def get(params):
        for attempt in range(10):
            resp = session.get(url, params=params, timeout=30)
            if resp.status_code in (429, 500, 502, 503, 504):
                time.sleep(float(resp.headers.get("Retry-After", 0.1 * 2 ** attempt)))
                continue
            resp.raise_for_status()
            return resp.json()
        raise RuntimeError("too many retries")
    for k, (lo, hi) in enumerate(windows):
        rows, page, part = [], 1, 0
        while True:
            body = get({"updated_since": lo, "updated_before": hi, "page": page, "per_page": per_page})
            rows += body["data"]
            if len(rows) >= 10_000 or page >= body["meta"]["total_pages"]:
                pq.write_table(pa.Table.from_pylist(rows), out / f"orders_{k}-{part}.parquet")
                rows, part = [], part + 1
            if page >= body["meta"]["total_pages"]:
                break
            page += 1
    """
)


def sequential(
    url: str, folder: Path, records: int, args: argparse.Namespace
) -> tuple[float, int, list[int]]:
    script = folder.parent / "sequential.py"
    script.write_text(SEQUENTIAL)
    argv = [
        sys.executable,
        str(script),
        f"{url}/open/page/orders",
        str(folder),
        str(args.per_page),
        json.dumps(windows(records)),
    ]
    seconds, peak, _ = timed(argv, folder.parent)
    return seconds, peak, ids_in(folder)


DLT = textwrap.dedent(
    """
    import sys, json
    import dlt
    from dlt.sources.rest_api import rest_api_source
    url, out, per_page, windows = sys.argv[1], sys.argv[2], int(sys.argv[3]), json.loads(sys.argv[4])
    source = rest_api_source({
        "client": {
            "base_url": url,
            "paginator": {"type": "page_number", "base_page": 1, "page_param": "page",
                          "total_path": "meta.total_pages"},
        },
        "resource_defaults": {"primary_key": "id", "write_disposition": "append", "parallelized": True},
        "resources": [
            {"name": f"orders_{k}", "endpoint": {"path": "page/orders", "data_selector": "data",
             "params": {"updated_since": lo, "updated_before": hi, "per_page": per_page}}}
            for k, (lo, hi) in enumerate(windows)
        ],
    })
    pipeline = dlt.pipeline(
        pipeline_name="bench", pipelines_dir=out + "/_pipelines", dataset_name="bench",
        destination=dlt.destinations.filesystem(bucket_url="file://" + out),
    )
    pipeline.run(source, loader_file_format="parquet")
    """
)


def dlt_rest_api(
    url: str, folder: Path, records: int, args: argparse.Namespace
) -> tuple[float, int, list[int]]:
    script = folder.parent / "dlt_run.py"
    script.write_text(DLT)
    folder.mkdir(parents=True)
    env = {"RUNTIME__DLTHUB_TELEMETRY": "false", "EXTRACT__WORKERS": str(ENDPOINTS)}
    argv = [
        sys.executable,
        str(script),
        f"{url}/open",
        str(folder),
        str(args.per_page),
        json.dumps(windows(records)),
    ]
    seconds, peak, _ = timed(argv, folder.parent, env)
    return seconds, peak, ids_in(folder / "bench")


def ids_in(folder: Path) -> list[int]:
    ids: list[int] = []
    for path in folder.rglob("*.parquet"):
        ids += pq.read_table(path, columns=["id"]).column("id").to_pylist()
    return sorted(ids)


def run_all(args: argparse.Namespace, root: Path) -> dict[str, Any]:
    records = args.pages * args.per_page
    api, url = start_api(records * 4, args)
    try:
        rows: dict[str, Any] = {}
        rows["ours"] = ours(url, root / "ours", records, args)
        rows["sequential requests"] = sequential(url, root / "sequential", records, args)
        rows["dlt rest_api (parallelized)"] = dlt_rest_api(url, root / "dlt", records, args)
        reference = rows["ours"][2]
        assert len(reference) == records == len(set(reference)), (len(reference), records)
        for name, (_, _, ids) in rows.items():
            assert ids == reference, (
                f"{name}: {len(ids)} records differ from ours ({len(reference)})"
            )
        big = ours(url, root / "ours4x", records * 4, args)
        assert len(big[2]) == records * 4
    finally:
        api.terminate()
        api.wait()
    return {"rows": rows, "big": big, "records": records}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--pages", type=int, default=5_000, help="Pages in the 1x run (all endpoints)."
    )
    parser.add_argument("--per-page", type=int, default=100)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--fault-rate", type=float, default=0.01)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="api_fetcher-bench-") as tmp:
        result = run_all(args, Path(tmp))
    pages = args.pages
    rows = result["rows"]
    ours_pps = pages / rows["ours"][0]
    print(
        f"{pages} pages of {args.per_page} records, {args.latency_ms:g} ms per page, {args.fault_rate:.0%} of pages 429/500 first; records equal across all three"
    )
    print("| tool | seconds | pages/s | peak RSS MiB | ours vs it |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, (seconds, peak, _) in rows.items():
        pps = pages / seconds
        print(f"| {name} | {seconds:.1f} | {pps:.0f} | {peak} | {ours_pps / pps:.2f}x |")
    big_s, big_peak, _ = result["big"]
    print(
        f"| ours, 4x pages ({pages * 4}) | {big_s:.1f} | {pages * 4 / big_s:.0f} | {big_peak} | peak {big_peak / rows['ours'][1]:.2f}x of 1x |"
    )
    command = f"uv run nox -s bench -- api_fetcher --pages {pages} --concurrency {args.concurrency}"
    print(f"command: {command}")
    # The verdicts `nox -s bench` gathers into BENCHMARKS.md (de_common.benchmarks).
    from de_common.benchmarks import Comparison, write_results

    rate = round(ours_pps, 2)
    write_results(
        Path(__file__).with_name("results.json"),
        "api_fetcher",
        [
            Comparison(
                f"{pages:,} pages",
                "pages/s",
                rate,
                "sequential requests loop",
                round(pages / rows["sequential requests"][0], 2),
                4.0,
            ),
            Comparison(
                f"{pages:,} pages",
                "pages/s",
                rate,
                "dlt rest_api (parallelized)",
                round(pages / rows["dlt rest_api (parallelized)"][0], 2),
                1.5,
            ),
            Comparison(
                "peak RSS at 4x pages",
                "MiB",
                big_peak,
                "ours at 1x pages",
                rows["ours"][1],
                1.1,
                "lower",
            ),
        ],
        data=(
            f"the bundled API in its own process: {pages:,} pages of {args.per_page} records, "
            f"{args.latency_ms:g} ms latency per page, {args.fault_rate:.0%} 429/500 answers"
        ),
        command=command,
    )


if __name__ == "__main__":
    main()
