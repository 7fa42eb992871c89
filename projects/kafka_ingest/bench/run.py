"""Benchmark: our producer and consume -> validate -> Parquet pipeline vs Kafka's own perf tools.

Same broker, same run, same settings (acks=all, idempotence, lz4, linger.ms, batch.size), same 1 KiB
JSON events. Run: `nox -s bench -- kafka_ingest [--scale=0.1]` (scale 1 = 1,000,000 messages).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]
from kafka_ingest.sources import generate

OUT = Path(__file__).parent / "out"
RECORD_BYTES = 1024
PARTITIONS = 3
SETTINGS = {"acks": "all", "compression": "lz4", "linger_ms": "10", "batch_bytes": "262144"}
JAVA_PROPS = [
    "acks=all",
    "enable.idempotence=true",
    "compression.type=lz4",
    "linger.ms=10",
    "batch.size=262144",
]


def bootstrap() -> str:
    """The broker: $DE_KAFKA_BOOTSTRAP, else the local service (started if needed)."""
    if os.environ.get("DE_KAFKA_BOOTSTRAP"):
        return os.environ["DE_KAFKA_BOOTSTRAP"]
    from de_services import resolve

    return resolve("kafka")


def make_events(count: int) -> Path:
    """count JSON events of exactly RECORD_BYTES bytes each, one per line (cached by count)."""
    path = OUT / f"events-{count}.jsonl"
    if path.exists():
        return path
    OUT.mkdir(parents=True, exist_ok=True)
    base = len(next(generate(1, pad_bytes=0)).raw) + len(',"pad":""')
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as out:
        for item in generate(count, pad_bytes=RECORD_BYTES - base - 2):
            raw = item.raw
            # Amounts vary in length; trim or extend the padding so every record is 1 KiB.
            diff = RECORD_BYTES - len(raw)
            if diff > 0:
                raw = raw.replace(b'"pad":"', b'"pad":"' + b"x" * diff, 1)
            elif diff < 0:
                raw = raw.replace(b"x" * -diff, b"", 1)
            out.write(raw + b"\n")
    tmp.rename(path)
    return path


def create_topics(server: str, *names: str) -> None:
    admin = AdminClient({"bootstrap.servers": server, "log_level": 3})
    futures = admin.create_topics(
        [NewTopic(n, num_partitions=PARTITIONS, replication_factor=1) for n in names]
    )
    for future in futures.values():
        future.result(timeout=60)


def delete_topics(server: str, names: list[str]) -> None:
    admin = AdminClient({"bootstrap.servers": server, "log_level": 3})
    for future in admin.delete_topics(names, operation_timeout=60).values():
        try:
            future.result(timeout=60)
        except Exception as exc:
            print(f"cleanup: {exc}", file=sys.stderr)


def ours(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "kafka_ingest", "--log-level", "WARNING", *args, "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        sys.exit(f"kafka_ingest {args[0]} failed: {proc.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def kafka_tool(*args: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "de_services", "kafka-tool", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        sys.exit(f"{args[0]} failed: {proc.stdout[-1000:]} {proc.stderr[-2000:]}")
    return proc.stdout


def java_producer(server: str, topic: str, count: int, payloads: Path) -> float:
    out = kafka_tool(
        "kafka-producer-perf-test",
        "--topic",
        topic,
        "--num-records",
        str(count),
        "--payload-file",
        str(payloads),
        "--throughput",
        "-1",
        "--producer-props",
        f"bootstrap.servers={server}",
        *JAVA_PROPS,
    )
    # Last line: "N records sent, X records/sec (Y MB/sec), ..."
    match = re.findall(r"(\d+) records sent, ([\d.]+) records/sec", out)
    if not match:
        sys.exit(f"unexpected producer-perf-test output: {out[-500:]}")
    return float(match[-1][1])


def java_consumer(server: str, topic: str, count: int) -> float:
    out = kafka_tool(
        "kafka-consumer-perf-test",
        "--bootstrap-server",
        server,
        "--topic",
        topic,
        "--messages",
        str(count),
        "--group",
        f"bench-java-{uuid.uuid4().hex[:8]}",
        "--timeout",
        "120000",
    )
    lines = [line for line in out.splitlines() if line.strip()]
    header = [h.strip() for h in lines[-2].split(",")]
    values = [v.strip() for v in lines[-1].split(",")]
    row = dict(zip(header, values, strict=False))
    return float(row["nMsg.sec"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 1,000,000 messages")
    parser.add_argument(
        "--rounds", type=int, default=2, help="alternate the tools this often, keep each one's best"
    )
    opts, _ = parser.parse_known_args()
    count = max(int(1_000_000 * opts.scale), 1000)
    server = bootstrap()
    events = make_events(count)
    payloads = OUT / "payloads.txt"
    with events.open("rb") as src, payloads.open("wb") as dst:
        for _, line in zip(range(10_000), src, strict=False):
            dst.write(line)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAFKA_INGEST_")}
    env |= {f"KAFKA_INGEST_{k.upper()}": v for k, v in SETTINGS.items()}
    env["KAFKA_INGEST_BOOTSTRAP"] = server
    best = {"our_prod": 0.0, "java_prod": 0.0, "our_cons": 0.0, "java_cons": 0.0}
    produced: dict[str, Any] = {}
    consumed: dict[str, Any] = {}
    # The box is shared: alternate the tools so a busy moment does not hit only one of them.
    for _ in range(max(opts.rounds, 1)):
        run = uuid.uuid4().hex[:8]
        topic_ours, topic_java, dlq = f"bench-ours-{run}", f"bench-java-{run}", f"bench-dlq-{run}"
        create_topics(server, topic_ours, topic_java, dlq)
        env["KAFKA_INGEST_DLQ_TOPIC"] = dlq
        sink_dir = OUT / f"parquet-{run}"
        try:
            java_prod = java_producer(server, topic_java, count, payloads)
            produced = ours(["produce", "--input", str(events), "--topic", topic_ours], env)
            our_prod = produced["records_in"] / produced["duration_s"]
            java_cons = java_consumer(server, topic_ours, count)
            consumed = ours(
                [
                    "consume",
                    "--topic",
                    topic_ours,
                    "--group-id",
                    f"bench-ours-{run}",
                    "--output-dir",
                    str(sink_dir),
                    "--batch-size",
                    "20000",
                    "--max-messages",
                    str(count),
                ],
                env,
            )
            our_cons = consumed["records_in"] / consumed["duration_s"]
        finally:
            delete_topics(server, [topic_ours, topic_java, dlq])
            shutil.rmtree(sink_dir, ignore_errors=True)
        print(
            f"round: producer ours {our_prod:,.0f} java {java_prod:,.0f}; "
            f"consumer ours {our_cons:,.0f} java {java_cons:,.0f}",
            file=sys.stderr,
        )
        for key, value in (
            ("our_prod", our_prod),
            ("java_prod", java_prod),
            ("our_cons", our_cons),
            ("java_cons", java_cons),
        ):
            best[key] = max(best[key], value)
    rows = [
        ("producer (validate + produce)", best["our_prod"], best["java_prod"], 0.70),
        ("consumer (consume + validate + Parquet)", best["our_cons"], best["java_cons"], 0.50),
    ]
    print(f"\n{count:,} messages x {RECORD_BYTES} B, {PARTITIONS} partitions, settings {SETTINGS}")
    print(f"best of {opts.rounds} alternating rounds")
    print(f"{'stage':42} {'ours msg/s':>12} {'Java msg/s':>12} {'ratio':>7} {'target':>7}")
    for name, mine, theirs, target in rows:
        ratio = mine / theirs
        verdict = "ok" if ratio >= target else "MISSED"
        print(f"{name:42} {mine:12,.0f} {theirs:12,.0f} {ratio:7.2f} {target:7.2f} {verdict}")
    print(
        json.dumps(
            {
                "messages": count,
                "rounds": opts.rounds,
                "best": {k: round(v) for k, v in best.items()},
                "last_produce_summary": produced,
                "last_consume_summary": {k: v for k, v in consumed.items() if k != "lag"},
            }
        )
    )


if __name__ == "__main__":
    main()
