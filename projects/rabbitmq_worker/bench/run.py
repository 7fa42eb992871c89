"""Benchmark: our publisher and worker vs RabbitMQ PerfTest and vs Celery, same broker, same run.

Input (scale 1): 100,000 messages of 1 KiB (noop tasks padded to 1 KiB), then the demo job:
`load_readings` batches of 20 sensor readings (skewed sensors, late timestamps, ~4.5% hostile
records: null-like texts, NaN, missing sensors, non-objects) upserted into SQLite, 1/10 of the
count (each task is one durable transaction).

1. PerfTest publish: 1 producer, persistent, confirms (window 2000), 1 KiB, into a quorum queue.
2. PerfTest consume: 1 consumer, manual acks, prefetch 256, until the queue is empty.
3. ours: `rabbitmq-worker publish --generate N --pad-bytes 1024` (async confirms, window 2000).
4. ours: `rabbitmq-worker work --concurrency 4 --prefetch 256` (no-op handler).
5. Celery (acks_late, threads pool, concurrency 4, prefetch 4 x 64): its publisher, then its worker.
6. the demo job: ours, then Celery, each into its own SQLite file.

Counted, every time: queue depths after publishing (N) and after consuming (0); ours: confirmed,
processed ids (no id twice); Celery: one id line per finished task, all unique. Rates: messages /
the tool's own time (PerfTest's reported average, our summaries' duration_s, Celery from its first
to its last finished task). Run: `nox -s bench -- rabbitmq_worker [--scale 0.1]`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any

import pika
from rabbitmq_worker.store import Store

from de_common.benchmarks import Comparison, write_results

HERE = Path(__file__).parent
CACHE = Path(os.environ.get("DE_CACHE_DIR", Path.home() / ".cache" / "de-showcase"))
PERFTEST_JARS = CACHE / "jars" / "perf-test"
CELERY_VENV = CACHE / "venvs" / "bench-celery"
SIZE = 1024
CONCURRENCY = 4
PREFETCH = 256
TARGETS = {"publish_vs_perftest": 0.5, "consume_vs_perftest": 0.5, "vs_celery": 2.0}


def broker_url() -> str:
    if os.environ.get("DE_RABBITMQ_URL"):
        return os.environ["DE_RABBITMQ_URL"]
    from de_services import resolve

    return resolve("rabbitmq")


def bench_vhost(url: str) -> tuple[str, str]:
    """A fresh vhost on the broker for this run (deleted at the end)."""
    from de_services.catalog import rabbitmq

    name = f"bench-{os.getpid()}"
    rabbitmq.add_vhost(url, name)
    parts = urllib.parse.urlsplit(url)
    return name, urllib.parse.urlunsplit(
        parts._replace(path="/" + urllib.parse.quote(name, safe=""))
    )


def depth(url: str, queue: str) -> int:
    conn = pika.BlockingConnection(pika.URLParameters(url))
    try:
        return int(conn.channel().queue_declare(queue, passive=True).method.message_count)
    finally:
        conn.close()


def settled_depth(url: str, queue: str, want: int) -> int:
    """The queue depth once it reaches `want`, or what it is after 10 s (quorum counts settle)."""
    deadline = time.monotonic() + 10
    while (found := depth(url, queue)) != want and time.monotonic() < deadline:
        time.sleep(0.2)
    return found


def perftest_jars() -> Path:
    """PerfTest from Maven Central (bench/pom.xml), resolved once into the cache."""
    if not list(PERFTEST_JARS.glob("perf-test-*.jar")):
        mvn = shutil.which("mvn") or sys.exit("mvn not found (apt-get install maven)")
        subprocess.run(
            [
                mvn,
                "-q",
                "-f",
                str(HERE / "pom.xml"),
                "dependency:copy-dependencies",
                f"-DoutputDirectory={PERFTEST_JARS}",
            ],
            check=True,
        )
    return PERFTEST_JARS


def perftest(url: str, rate: str, *args: str) -> tuple[float, str]:
    """Run PerfTest; its reported average `rate` (sending or receiving) and its output."""
    java = shutil.which("java") or sys.exit("java not found")
    proc = subprocess.run(
        [java, "-cp", f"{perftest_jars()}/*", "com.rabbitmq.perf.PerfTest", "-h", url, *args],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if proc.returncode != 0:
        sys.exit(f"PerfTest failed: {proc.stderr[-2000:]}")
    rates = re.findall(rf"{rate} rate avg: ([0-9.]+) msg/s", proc.stdout)
    if not rates:
        sys.exit(f"no PerfTest {rate} rate in: {proc.stdout[-2000:]}")
    return float(rates[-1]), proc.stdout


def ours(url: str, db: Path, *args: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RABBITMQ_WORKER_")}
    env.update(
        RABBITMQ_WORKER_URL=url,
        RABBITMQ_WORKER_PREFIX="bench",
        RABBITMQ_WORKER_DATABASE_URL=f"sqlite:///{db}",
        RABBITMQ_WORKER_QUARANTINE=str(db.parent / "rejects.jsonl"),
    )
    proc = subprocess.run(
        [sys.executable, "-m", "rabbitmq_worker", "--log-level", "WARNING", *args, "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    if proc.returncode != 0:
        sys.exit(f"rabbitmq-worker {args[0]} failed: {proc.stdout}{proc.stderr[-2000:]}")
    data: dict[str, Any] = json.loads(proc.stdout)
    return data


def celery_python() -> str:
    """Celery in its own venv with exactly the pins of bench/celery.txt (re-made when they change)."""
    wanted = (HERE / "celery.txt").read_text()
    marker = CELERY_VENV / ".pins"
    if not (marker.exists() and marker.read_text() == wanted):
        uv = shutil.which("uv") or sys.exit("uv not found on PATH (pip install uv)")
        shutil.rmtree(CELERY_VENV, ignore_errors=True)
        subprocess.run([uv, "venv", "-q", "-p", sys.executable, str(CELERY_VENV)], check=True)
        python = str(CELERY_VENV / "bin" / "python")
        subprocess.run([uv, "pip", "sync", "-q", "-p", python, "celery.txt"], cwd=HERE, check=True)
        marker.write_text(wanted)
    return str(CELERY_VENV / "bin" / "python")


def celery_run(url: str, out: Path, count: int, kind: str, db: Path) -> dict[str, Any]:
    """Celery's publisher, then its worker until every task recorded its id; counted."""
    python = celery_python()
    out.mkdir(parents=True, exist_ok=True)
    queue = f"celery-bench-{kind}"
    env = {
        **os.environ,
        "BENCH_AMQP_URL": url,
        "BENCH_OUT": str(out),
        "BENCH_DATABASE_URL": f"sqlite:///{db}",
        "BENCH_CELERY_QUEUE": queue,
        "PYTHONPATH": str(HERE),
    }
    pub = subprocess.run(
        [python, str(HERE / "celery_app.py"), "publish", str(count), kind, str(SIZE)],
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
        check=True,
    )
    publish_s = float(pub.stdout.strip().splitlines()[-1])
    assert depth(url, queue) == count, "Celery's publisher lost messages"
    worker = subprocess.Popen(
        [
            python,
            "-m",
            "celery",
            "-A",
            "celery_app",
            "worker",
            "-P",
            "threads",
            "-c",
            str(CONCURRENCY),
            "--prefetch-multiplier",
            str(PREFETCH // CONCURRENCY),
            "-Q",
            queue,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "WARNING",
        ],
        env=env,
        cwd=HERE,
        stdout=subprocess.DEVNULL,
        stderr=(out / "worker.log").open("w"),
    )
    try:
        deadline = time.monotonic() + 3600
        while time.monotonic() < deadline:
            if _lines(out) >= count:
                break
            if worker.poll() is not None:
                sys.exit(f"celery worker exited: {(out / 'worker.log').read_text()[-2000:]}")
            time.sleep(0.2)
        time.sleep(1.0)  # anything doubled would show up now
    finally:
        worker.terminate()
        worker.wait(60)
    ids = [line for f in out.glob("*.ids") for line in f.read_text().splitlines()]
    stamps = sorted(f.stat().st_mtime for f in out.glob("*.ids"))
    first = min(_first_write(out), stamps[-1])
    return {
        "publish_rate": count / publish_s,
        "tasks": len(ids),
        "unique": len(set(ids)),
        "rate": count / max(stamps[-1] - first, 1e-6),
        "left_in_queue": depth(url, queue),
    }


_FIRST: dict[str, float] = {}


def _lines(out: Path) -> int:
    total = 0
    for f in out.glob("*.ids"):
        _FIRST.setdefault(str(out), time.time())
        total += f.read_bytes().count(b"\n")
    return total


def _first_write(out: Path) -> float:
    return _FIRST.get(str(out), time.time())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 100,000 messages")
    parser.add_argument("--skip-celery", action="store_true")
    opts = parser.parse_args()
    n = int(100_000 * opts.scale)
    n_demo = max(n // 10, 100)
    url = broker_url()
    vhost, vurl = bench_vhost(url)
    work = Path(tempfile.mkdtemp(prefix="rabbitmq_worker-bench-"))
    load = os.getloadavg()
    results: dict[str, Any] = {
        "messages": n,
        "demo_tasks": n_demo,
        "bytes": SIZE,
        "load_avg_start": [round(x, 2) for x in load],
    }
    try:
        # PerfTest: quorum queue, persistent, confirms, then a consumer with manual acks.
        qargs = "x-queue-type=quorum"
        pub_rate, _ = perftest(
            vurl,
            "sending",
            "-x",
            "1",
            "-y",
            "0",
            "-C",
            str(n),
            "-s",
            str(SIZE),
            "-c",
            "2000",
            "-f",
            "persistent",
            "-u",
            "pt",
            "-qa",
            qargs,
            "-ad",
            "false",
        )
        assert (d := settled_depth(vurl, "pt", n)) == n, f"PerfTest published {d} of {n}"
        con_rate, _ = perftest(
            vurl,
            "receiving",
            "-x",
            "0",
            "-y",
            "1",
            "-D",
            str(n),
            "-q",
            str(PREFETCH),
            "-u",
            "pt",
            "-qa",
            qargs,
            "-ad",
            "false",
            "-f",
            "persistent",
            "-p",
        )
        assert (d := settled_depth(vurl, "pt", 0)) == 0, f"PerfTest left {d} of {n}"
        results["perftest"] = {"publish_rate": pub_rate, "consume_rate": con_rate}

        db = work / "ours.db"
        pub = ours(vurl, db, "publish", "--generate", str(n), "--pad-bytes", str(SIZE))
        assert pub["records_out"] == n and depth(vurl, "bench.work") == n, pub
        w = ours(
            vurl,
            db,
            "work",
            "--concurrency",
            str(CONCURRENCY),
            "--prefetch",
            str(PREFETCH),
            "--max-messages",
            str(n),
        )
        assert w["records_out"] == n and w["repeat_ids"] == 0 and depth(vurl, "bench.work") == 0, w
        results["ours"] = {
            "publish_rate": n / pub["duration_s"],
            "consume_rate": n / w["duration_s"],
        }

        pub = ours(vurl, db, "publish", "--generate", str(n_demo), "--task", "load_readings")
        w = ours(
            vurl,
            db,
            "work",
            "--concurrency",
            str(CONCURRENCY),
            "--prefetch",
            str(PREFETCH),
            "--max-messages",
            str(n_demo),
        )
        ledger = Store(f"sqlite:///{db}")
        (done,) = ledger.query("SELECT COUNT(DISTINCT message_id) FROM processed_messages")[0]
        (readings_ours,) = ledger.query("SELECT SUM(readings) FROM sensor_totals")[0]
        assert done == n_demo == w["records_out"], (done, w)
        results["ours"]["demo_rate"] = n_demo / w["duration_s"]

        if not opts.skip_celery:
            noop = celery_run(vurl, work / "celery-noop", n, "noop", work / "celery.db")
            assert noop["tasks"] == noop["unique"] == n and noop["left_in_queue"] == 0, noop
            cdb = work / "celery.db"
            Store(f"sqlite:///{cdb}").ensure_schema()
            demo = celery_run(vurl, work / "celery-demo", n_demo, "load_readings", cdb)
            assert demo["tasks"] == demo["unique"] == n_demo, demo
            (readings_celery,) = Store(f"sqlite:///{cdb}").query(
                "SELECT SUM(readings) FROM sensor_totals"
            )[0]
            assert readings_celery == readings_ours, (readings_celery, readings_ours)
            results["celery"] = {
                "publish_rate_no_confirms": noop["publish_rate"],
                "noop_rate": noop["rate"],
                "demo_rate": demo["rate"],
            }
            results["ratio_vs_celery"] = {
                "noop": results["ours"]["consume_rate"] / noop["rate"],
                "demo": results["ours"]["demo_rate"] / demo["rate"],
            }
        results["ratio_vs_perftest"] = {
            "publish": results["ours"]["publish_rate"] / pub_rate,
            "consume": results["ours"]["consume_rate"] / con_rate,
        }
        results["load_avg_end"] = [round(x, 2) for x in os.getloadavg()]
    finally:
        from de_services.catalog import rabbitmq

        rabbitmq.delete_vhost(url, vhost)
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(results, indent=2))
    if opts.scale == 1.0 and not opts.skip_celery:
        save(results)


def comparisons(results: dict[str, Any]) -> list[Comparison]:
    """The issue's four verdicts from one run's figures."""
    o, p, c = results["ours"], results["perftest"], results["celery"]
    return [
        Comparison(
            "publish, persistent 1 KiB, confirms",
            "msg/s",
            round(o["publish_rate"]),
            "RabbitMQ PerfTest",
            p["publish_rate"],
            TARGETS["publish_vs_perftest"],
            note="ours: async confirms (window 2000) + JSON Schema validation per task",
        ),
        Comparison(
            "consume, manual acks, no-op task",
            "msg/s",
            round(o["consume_rate"]),
            "RabbitMQ PerfTest",
            p["consume_rate"],
            TARGETS["consume_vs_perftest"],
            note="ours: decode + validate + thread pool + multiple-acks from the I/O thread",
        ),
        Comparison(
            "task throughput, no-op",
            "tasks/s",
            round(o["consume_rate"]),
            "Celery",
            round(c["noop_rate"]),
            TARGETS["vs_celery"],
            note="Celery: acks_late, threads pool, concurrency 4, prefetch 256",
        ),
        Comparison(
            "task throughput, demo job (SQLite upsert)",
            "tasks/s",
            round(o["demo_rate"]),
            "Celery",
            round(c["demo_rate"]),
            TARGETS["vs_celery"],
            note="both run rabbitmq_worker.tasks.load_readings: one durable commit per task",
        ),
    ]


def save(results: dict[str, Any]) -> None:
    write_results(
        HERE / "results.json",
        "rabbitmq_worker",
        comparisons(results),
        data=f"{results['messages']:,} noop tasks of 1 KiB (quorum queue, persistent) and "
        f"{results['demo_tasks']:,} load_readings batches of 20 readings (~4.5% hostile records), "
        "one broker (RabbitMQ 3.10), counted: none lost, none doubled",
        command="uv run nox -s bench -- rabbitmq_worker",
    )


if __name__ == "__main__":
    main()
