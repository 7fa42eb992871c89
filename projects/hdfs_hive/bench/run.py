"""Upload throughput: `hdfs-hive put` vs Hadoop's `hdfs dfs -put` (same jars as the cluster) vs the
`hdfs` package's own `hdfscli upload`, on the same generated Parquet folder in one run.

Every uploaded file is then checked identical in all three destinations and to the local file
(HDFS's MD5-of-MD5-of-CRC32C from GETFILECHECKSUM against the one computed locally).

    python bench/run.py --mb 1024 [--workers 4] [--hdfs-url http://127.0.0.1:29870]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hdfs import InsecureClient
from hdfs_hive import sample
from hdfs_hive.checksum import file_checksum, remote_md5

from de_common.benchmarks import Comparison, write_results

ROWS_PER_MB = 28_000  # measured: the sample events take ~36 bytes a row as snappy Parquet


def generate(folder: Path, mb: int) -> list[Path]:
    """~35% of the bytes in many ~1 MB files, ~65% in a few large ones (>= 1 large file)."""
    small_rows = ROWS_PER_MB
    small = max(1, int(mb * 0.35))
    large = max(1, round(mb * 0.65 / 60))
    large_rows = int(mb * 0.65 / large * ROWS_PER_MB)
    shape = sample.Shape(
        days=1,
        small_files=small,
        small_rows=small_rows,
        large_files=large,
        large_rows=large_rows,
        seed=42,
    )
    sample.generate(folder, shape)
    return sorted(folder.rglob("*.parquet"))


def timed(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    res = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if res.returncode != 0:
        raise SystemExit(f"{argv[:4]} failed: {res.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=1024)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument(
        "--hdfs-url", default=os.environ.get("DE_HDFS_URL", "http://127.0.0.1:29870")
    )
    args = parser.parse_args()
    client = InsecureClient(args.hdfs_url, user="root")
    base = f"/bench/hdfs_hive-{os.getpid()}"
    with tempfile.TemporaryDirectory(prefix="hdfs_hive-bench-") as tmp:
        folder = Path(tmp) / "data"
        files = generate(folder, args.mb)
        total = sum(f.stat().st_size for f in files)
        config = Path(tmp) / "hdfscli.cfg"
        config.write_text(
            f"[global]\ndefault.alias = bench\n\n[bench.alias]\nurl = {args.hdfs_url}\nuser = root\n"
        )
        env = {
            **os.environ,
            "HDFS_HIVE_HDFS_URL": args.hdfs_url,
            "HDFSCLI_CONFIG": str(config),
            "HDFS_HIVE_LOG_LEVEL": "warning",
            "HDFS_HIVE_QUARANTINE": str(Path(tmp) / "rejects.jsonl"),
        }
        client.makedirs(base)
        runs = {
            "hdfs-hive put": [
                sys.executable,
                "-m",
                "hdfs_hive",
                "put",
                str(folder),
                "--to",
                f"{base}/ours",
                "--workers",
                str(args.workers),
                "--json",
            ],
            "hdfs dfs -put": [
                sys.executable,
                "-m",
                "de_services",
                "hdfs-dfs",
                "-put",
                str(folder),
                f"{base}/dfs",
            ],
            "hdfscli upload": [
                str(Path(sys.executable).with_name("hdfscli")),
                "upload",
                "-t",
                str(args.workers),
                str(folder),
                f"{base}/cli",
            ],
        }
        seconds = {name: timed(argv, env) for name, argv in runs.items()}
        # Identical everywhere: same size and HDFS checksum as the local file, in all three.
        for f in files:
            rel = f.relative_to(folder).as_posix()
            for dest in ("ours", "dfs", "cli"):
                path = f"{base}/{dest}/{rel}"
                status = client.status(path)
                assert status["length"] == f.stat().st_size, path
                assert remote_md5(client.checksum(path)) == file_checksum(f, status["blockSize"]), (
                    path
                )
        client.delete(base, recursive=True)
    mbps = {name: total / 1e6 / s for name, s in seconds.items()}
    report(mbps, seconds, len(files), total, args.mb)


def report(
    mbps: dict[str, float], seconds: dict[str, float], files: int, total: int, mb: int
) -> None:
    """Print the table and save bench/results.json (de_common.benchmarks)."""
    ours = mbps["hdfs-hive put"]
    print(json.dumps({"files": files, "mb": round(total / 1e6, 1), "load_avg": os.getloadavg()[0]}))
    print("| tool | seconds | MB/s | ours / tool |")
    print("|---|---:|---:|---:|")
    for name in mbps:
        print(f"| {name} | {seconds[name]:.1f} | {mbps[name]:.1f} | {ours / mbps[name]:.2f} |")
    comparisons = [
        Comparison(
            "upload throughput",
            "MB/s",
            round(ours, 2),
            "hdfs dfs -put",
            round(mbps["hdfs dfs -put"], 2),
            0.8,
        ),
        Comparison(
            "upload throughput",
            "MB/s",
            round(ours, 2),
            "hdfscli upload",
            round(mbps["hdfscli upload"], 2),
            1.0,
            note="ours verifies size + HDFS checksum and renames atomically per file; hdfscli does neither",
        ),
    ]
    write_results(
        Path(__file__).with_name("results.json"),
        "hdfs_hive",
        comparisons,
        data=f"{files} sample-event Parquet files, {total / 1e6:.0f} MB (many ~0.9 MB, a few ~60 MB)",
        command=f"python bench/run.py --mb {mb}",
    )


if __name__ == "__main__":
    main()
