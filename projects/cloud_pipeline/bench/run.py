"""Benchmark: our uploads against `aws s3 cp --recursive` (awscli from PyPI, its own venv) on the
same S3 endpoint in the same run, and Kinesis PutRecords batching against one PutRecord per record.

Inputs (default): one file of 1 GiB, and 1,000 files of 1 MiB; random bytes (incompressible).
Each tool uploads each input once per round into its own prefix; every object is then read back
and its SHA-256 compared with the local file's (not timed). Throughput is bytes / wall time of the
whole command, process start included for both. Kinesis: --records JSON events (one in 200 not
JSON, so dropped before sending; 13 customers, skewed, as partition keys) sent by our Producer
(PutRecords, 500 a call) and the same events by put_record one call each, both in this process on
one boto3 client, each to its own fresh 4-shard stream.

Run: `nox -s bench -- cloud_pipeline [--size-mib 1024 --files 1000 --records 20000]`.
The endpoint is $DE_S3_ENDPOINT, else the launcher's moto server (started when needed).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import boto3
from cloud_pipeline.clients import AwsTarget
from cloud_pipeline.producer import Batching, Entry, Producer, put_one_by_one

from de_common.benchmarks import Comparison, write_results

HERE = Path(__file__).parent
CACHE = Path(os.environ.get("DE_CACHE_DIR", Path.home() / ".cache" / "de-showcase"))
AWS_VENV = CACHE / "venvs" / "cloud-pipeline-awscli"
MIB = 1024 * 1024
TARGETS = {"upload": 0.9, "batching": 20.0}


def endpoint() -> str:
    if os.environ.get("DE_S3_ENDPOINT"):
        return os.environ["DE_S3_ENDPOINT"]
    from de_services import resolve

    return resolve("moto")


def aws_binary() -> str:
    """awscli with exactly the pins of bench/awscli.txt, in its own venv (re-made when they change)."""
    wanted = (HERE / "awscli.txt").read_text()
    marker = AWS_VENV / ".pins"
    if not (marker.exists() and marker.read_text() == wanted):
        uv = shutil.which("uv") or sys.exit("uv not found on PATH (pip install uv)")
        shutil.rmtree(AWS_VENV, ignore_errors=True)
        subprocess.run([uv, "venv", "-q", "-p", sys.executable, str(AWS_VENV)], check=True)
        python = str(AWS_VENV / "bin" / "python")
        subprocess.run([uv, "pip", "sync", "-q", "-p", python, "awscli.txt"], cwd=HERE, check=True)
        marker.write_text(wanted)
    return str(AWS_VENV / "bin" / "aws")


def write_random(path: Path, size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        left = size
        while left:
            block = os.urandom(min(left, 8 * MIB))
            out.write(block)
            left -= len(block)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while block := stream.read(8 * MIB):
            digest.update(block)
    return digest.hexdigest()


def timed(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    res = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if res.returncode:
        sys.exit(f"{argv[0]} failed: {res.stderr[-2000:]}")
    return time.perf_counter() - started


def verify(s3: Any, bucket: str, prefix: str, folder: Path) -> int:
    """Every local file has an object under prefix with the same SHA-256; the object count."""
    local = {p.relative_to(folder).as_posix(): p for p in folder.rglob("*") if p.is_file()}
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    keys = [o["Key"] for page in pages for o in page.get("Contents", [])]
    assert sorted(k[len(prefix) :] for k in keys) == sorted(local), f"{prefix}: objects differ"
    for key in keys:
        digest = hashlib.sha256()
        for chunk in s3.get_object(Bucket=bucket, Key=key)["Body"].iter_chunks(8 * MIB):
            digest.update(chunk)
        name = key[len(prefix) :]
        assert digest.hexdigest() == sha256(local[name]), f"{key}: checksum differs"
    return len(keys)


def empty(s3: Any, bucket: str) -> None:
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        objects = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if objects:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": objects})


def upload_case(name: str, folder: Path, ctx: dict[str, Any]) -> dict[str, float]:
    """Ours then awscli on the same folder; both verified; MiB/s each and the ratio."""
    s3, bucket, url, env, aws = ctx["s3"], ctx["bucket"], ctx["url"], ctx["env"], ctx["aws"]
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    ours_argv = [
        sys.executable,
        "-m",
        "cloud_pipeline",
        "--log-level",
        "WARNING",
        "upload",
        str(folder),
    ]
    ours_argv += ["--lake-url", f"s3://{bucket}", "--prefix", f"ours-{name}", "--json"]
    aws_argv = [aws, "--endpoint-url", url, "--region", "us-east-1", "--only-show-errors"]
    aws_argv += ["s3", "cp", "--recursive", str(folder), f"s3://{bucket}/aws-{name}/"]
    best = {"ours": float("inf"), "aws": float("inf")}
    for _ in range(ctx["rounds"]):
        best["ours"] = min(best["ours"], timed(ours_argv, env))
        count = verify(s3, bucket, f"ours-{name}/", folder)
        empty(s3, bucket)
        best["aws"] = min(best["aws"], timed(aws_argv, env))
        assert verify(s3, bucket, f"aws-{name}/", folder) == count
        empty(s3, bucket)
    ours, theirs = size / MIB / best["ours"], size / MIB / best["aws"]
    print(
        f"  {name}: {count} objects, {size / MIB:,.0f} MiB: ours {ours:,.1f} MiB/s ({best['ours']:.1f} s), "
        f"awscli {theirs:,.1f} MiB/s ({best['aws']:.1f} s), ratio {ours / theirs:.2f}",
        flush=True,
    )
    return {"ours_mib_s": ours, "aws_mib_s": theirs, "ratio": ours / theirs, "objects": count}


def events(count: int) -> list[Entry]:
    """JSON events of ~250 bytes, skewed customers, one in 200 not JSON (filtered like `produce`)."""
    out = []
    for i in range(count):
        if i % 200 == 199:
            continue  # `produce` rejects these before sending; neither path sends them
        row = {
            "id": i,
            "updated_at": f"2024-01-01T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z",
            "customer": f"customer-{(i * i) % 13:02d}",
            "amount": round(i * 0.37 % 1000, 2),
            "status": ("new", "paid", "shipped")[i % 3],
            "note": "n/a" if i % 50 == 0 else "x" * 80,
        }
        out.append(Entry(i, json.dumps(row).encode(), row["customer"]))
    return out


def fresh_stream(kinesis: Any, shards: int) -> str:
    stream = f"bench-{uuid.uuid4().hex[:8]}"
    kinesis.create_stream(StreamName=stream, ShardCount=shards)
    kinesis.get_waiter("stream_exists").wait(StreamName=stream, WaiterConfig={"Delay": 0.2})
    return stream


def kinesis_case(url: str, records: int, single: int) -> dict[str, float]:
    """Each method on its own fresh 4-shard stream: moto finds a shard's last sequence number by
    copying its key list (O(n) per record), so a fuller stream would slow whoever came second."""
    kinesis = boto3.client("kinesis", endpoint_url=url, region_name="us-east-1")
    batch = events(records)
    few = batch[:single]
    streams = [fresh_stream(kinesis, 4), fresh_stream(kinesis, 4)]
    try:
        started = time.perf_counter()
        report = Producer(kinesis, streams[0], AwsTarget("us-east-1", url), Batching()).put(batch)
        batched = len(batch) / (time.perf_counter() - started)
        assert report.sent == len(batch) and not report.failed
        started = time.perf_counter()
        put_one_by_one(kinesis, streams[1], few)
        one = len(few) / (time.perf_counter() - started)
    finally:
        for stream in streams:
            kinesis.delete_stream(StreamName=stream, EnforceConsumerDeletion=True)
    print(
        f"  kinesis: PutRecords {batched:,.0f} rec/s ({len(batch):,} records, {report.calls} calls), "
        f"put_record {one:,.0f} rec/s ({len(few):,} records), ratio {batched / one:.1f}x",
        flush=True,
    )
    return {"batched_rec_s": batched, "single_rec_s": one, "ratio": batched / one}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size-mib", type=int, default=1024, help="The one large object.")
    parser.add_argument("--files", type=int, default=1000, help="How many small objects.")
    parser.add_argument("--file-kib", type=int, default=1024, help="Size of each small object.")
    parser.add_argument("--records", type=int, default=5_000, help="Kinesis events.")
    parser.add_argument(
        "--single", type=int, default=5_000, help="Of those, how many go one call each."
    )
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--work-dir", type=Path, default=Path(tempfile.gettempdir()))
    args = parser.parse_args()

    url = endpoint()
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
        "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "testing-secret"),
        "AWS_DEFAULT_REGION": "us-east-1",
        "CLOUD_PIPELINE_ENDPOINT_URL": url,
    }
    os.environ.update(
        {k: env[k] for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")}
    )
    s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1")
    bucket = f"bench-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    work = Path(tempfile.mkdtemp(prefix="cloud_pipeline-bench-", dir=args.work_dir))
    ctx = {
        "s3": s3,
        "bucket": bucket,
        "url": url,
        "env": env,
        "aws": aws_binary(),
        "rounds": args.rounds,
    }
    print(
        f"endpoint {url}, load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} cores", flush=True
    )
    try:
        write_random(work / "one" / "big.bin", args.size_mib * MIB)
        one = upload_case("one", work / "one", ctx)
        shutil.rmtree(work / "one")
        for i in range(args.files):
            write_random(work / "many" / f"part-{i:05d}.bin", args.file_kib * 1024)
        many = upload_case("many", work / "many", ctx)
        stream = kinesis_case(url, args.records, args.single)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        empty(s3, bucket)
        s3.delete_bucket(Bucket=bucket)
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    print(json.dumps({"one": one, "many": many, "kinesis": stream}))
    comparisons = [
        Comparison(
            f"upload {args.size_mib} MiB as one object",
            "MiB/s",
            one["ours_mib_s"],
            "aws s3 cp --recursive",
            one["aws_mib_s"],
            TARGETS["upload"],
        ),
        Comparison(
            f"upload {args.files} x {args.file_kib} KiB objects",
            "MiB/s",
            many["ours_mib_s"],
            "aws s3 cp --recursive",
            many["aws_mib_s"],
            TARGETS["upload"],
        ),
        Comparison(
            "Kinesis: PutRecords batches vs put_record each",
            "records/s",
            stream["batched_rec_s"],
            "put_record per record",
            stream["single_rec_s"],
            TARGETS["batching"],
        ),
    ]
    full = (args.size_mib, args.files, args.file_kib) == (1024, 1000, 1024)
    if full:  # only the sizes are saved as the project's verdicts
        write_results(
            HERE / "results.json",
            "cloud_pipeline",
            comparisons,
            data=f"{args.size_mib} MiB random bytes as one file; {args.files} random files of "
            f"{args.file_kib} KiB; {args.records:,} JSON events (1 in 200 not JSON, dropped "
            f"before sending), {args.single:,} of them one call each; moto server over HTTP",
            command="nox -s bench -- cloud_pipeline " + " ".join(sys.argv[1:]),
        )
    misses = [n for n, r in (("one", one), ("many", many)) if r["ratio"] < TARGETS["upload"]]
    if stream["ratio"] < TARGETS["batching"]:
        misses.append("kinesis")
    if misses:
        print(f"below target: {', '.join(misses)}")


if __name__ == "__main__":
    main()
