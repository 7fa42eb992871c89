"""Benchmark: our producer and consumer pipeline against Quix Streams doing the same job, same run.

Inputs (scale 1): 500,000 time-ordered JSON events of 1 KiB (3 hours) and 300,000 whose times
scatter over 28 days x 24 hours (a replay of a month, late data); every 1,000th line is poison
(alternately not JSON and JSON that breaks the schema); 3 partitions, single local broker.

- producer: read the JSONL file, validate against the event schema, produce keyed, invalid lines to
  a DLQ topic: `kafka-ingest produce --input` vs the same loop on Quix's producer (anchors.py);
- consumer, on each input (the time-ordered topic filled by a bare confluent-kafka loop, the
  scattered one by kcat when it is installed): consume, validate, Parquet:
  `kafka-ingest consume` (DLQ, hour folders, commits) vs a Quix Application (json deserializer,
  filter with the same fastjsonschema schema, LocalFileSink parquet, non-JSON skipped).
- ceilings: Kafka's Java perf tools and a bare confluent-kafka loop (no decoding, no validation).

The output of both consumers is checked: the same set of valid event ids (the input's), ours with
every poison message in its DLQ, Quix's counted as dropped. The tools run alternately for
--rounds rounds; each one's best round counts. Everything is written under --work-dir (/tmp) and
deleted at the end. Run: `nox -s bench -- kafka_ingest [--scale 0.1]`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pyarrow.parquet as pq
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined, unused-ignore]
from kafka_ingest.events import InvalidEvent, validate
from kafka_ingest.sources import generate

sys.path.insert(0, str(Path(__file__).parent))
from anchors import SETTINGS

HERE = Path(__file__).parent
ORDERED, SCATTERED = 500_000, 300_000
MONTH_HOURS = 28 * 24
RECORD_BYTES = 1024
PARTITIONS = 3
POISON_EVERY = 1_000
TARGETS = {"producer": 2.0, "consumer": 3.0}
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


def is_poison(line: int) -> bool:
    """Whether the line with this index is poison."""
    return line % POISON_EVERY == POISON_EVERY // 2


def poison(i: int) -> bytes:
    """A poison line: alternately not JSON at all, and JSON that breaks the schema."""
    if i // POISON_EVERY % 2:
        return b"\x00\x01 not json " + str(i).encode()
    return orjson.dumps({"event_id": f"poison-{i}", "note": "no key, ts, kind or payload"})


def make_events(folder: Path, count: int, scattered: bool = False) -> Path:
    """count lines: JSON events of exactly RECORD_BYTES bytes, every POISON_EVERY-th poison."""
    path = folder / f"events-{'scattered' if scattered else 'ordered'}-{count}.jsonl"
    if path.exists():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    base = len(next(generate(1, pad_bytes=0)).raw) + len(',"pad":""')
    span = MONTH_HOURS if scattered else 3.0
    items = generate(count, pad_bytes=RECORD_BYTES - base - 2, span_hours=span, scattered=scattered)
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as out:
        for i, item in enumerate(items):
            raw = item.raw
            # Amounts and times vary in length; trim or extend the padding to 1 KiB exactly.
            diff = RECORD_BYTES - len(raw)
            if diff > 0:
                raw = raw.replace(b'"pad":"', b'"pad":"' + b"x" * diff, 1)
            elif diff < 0:
                raw = raw.replace(b"x" * -diff, b"", 1)
            if is_poison(i):
                raw = poison(i)
            out.write(raw + b"\n")
    tmp.rename(path)
    return path


def valid_ids(path: Path) -> set[str]:
    """The event ids of the file's lines that pass the event contract."""
    ids = set()
    with path.open("rb") as lines:
        for line in lines:
            try:
                ids.add(validate(orjson.loads(line))["event_id"])
            except (orjson.JSONDecodeError, InvalidEvent):
                continue
    return ids


def parquet_ids(folder: Path) -> list[str]:
    """Every event id in the Parquet files under folder, duplicates included."""
    ids: list[str] = []
    for path in folder.rglob("*.parquet"):
        ids.extend(pq.read_table(path, columns=["event_id"])["event_id"].to_pylist())
    return ids


class Admin:
    """Topics of this run, all deleted at the end."""

    def __init__(self, server: str) -> None:
        self.client = AdminClient({"bootstrap.servers": server, "log_level": 3})
        self.created: list[str] = []

    def create(self, *names: str, partitions: int = PARTITIONS) -> None:
        """Create the topics and wait until every partition has a leader: a client that starts
        on a topic created a moment ago waits ~0.5 s for its metadata, which would land on
        whichever tool happens to come first."""
        topics = [NewTopic(n, num_partitions=partitions, replication_factor=1) for n in names]
        for future in self.client.create_topics(topics).values():
            future.result(timeout=60)
        self.created.extend(names)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            found = self.client.list_topics(timeout=10).topics
            if all(
                n in found
                and found[n].error is None
                and len(found[n].partitions) == partitions
                and all(p.leader >= 0 for p in found[n].partitions.values())
                for n in names
            ):
                return
            time.sleep(0.05)
        sys.exit(f"topics {names} got no leaders in 60 s")

    def delete_all(self) -> None:
        if not self.created:
            return
        for future in self.client.delete_topics(self.created, operation_timeout=60).values():
            try:
                future.result(timeout=60)
            except Exception as exc:
                print(f"cleanup: {exc}", file=sys.stderr)
        self.created = []


def run_json(args: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run a command that prints one JSON object last; exit with its stderr if it fails."""
    proc = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"{shlex.join(args[:4])} ... failed: {proc.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def ours(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    return run_json(
        [sys.executable, "-m", "kafka_ingest", "--log-level", "WARNING", *args, "--json"], env
    )


QUIX_VENV = Path(os.environ.get("DE_CACHE_DIR", Path.home() / ".cache" / "de-showcase"))
QUIX_VENV = QUIX_VENV / "venvs" / "bench-quix"


def quix_python() -> str:
    """Quix Streams in its own venv with exactly the pins of bench/quix.txt (re-made when they
    change): Quix caps confluent-kafka and pydantic below the project's lock, and a benchmark
    tool must not move the versions the project deploys with."""
    wanted = (HERE / "quix.txt").read_text()
    marker = QUIX_VENV / ".pins"
    if not (marker.exists() and marker.read_text() == wanted):
        uv = shutil.which("uv") or sys.exit("uv not found on PATH (pip install uv)")
        shutil.rmtree(QUIX_VENV, ignore_errors=True)
        subprocess.run([uv, "venv", "-q", "-p", sys.executable, str(QUIX_VENV)], check=True)
        python = str(QUIX_VENV / "bin" / "python")
        # quix.txt names shared/ and this project by paths relative to bench/.
        subprocess.run([uv, "pip", "sync", "-q", "-p", python, "quix.txt"], cwd=HERE, check=True)
        marker.write_text(wanted)
    return str(QUIX_VENV / "bin" / "python")


def anchor(*args: str) -> dict[str, Any]:
    python = quix_python() if args[0].startswith("quix") else sys.executable
    return run_json([python, str(HERE / "anchors.py"), *args])


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


def fill_with_kcat(server: str, topic: str, source: Path) -> bool:
    """The scattered input arrives from a third-party producer, as in the issue; False: no kcat."""
    kcat = shutil.which("kcat")
    if kcat is None:
        return False
    props = ["-X", "enable.idempotence=true", "-X", "compression.type=lz4", "-X", "linger.ms=10"]
    subprocess.run(
        [kcat, "-P", "-b", server, "-t", topic, *props, "-l", str(source)],
        check=True,
        timeout=1800,
    )
    return True


Job = Callable[[], dict[str, Any]]


@dataclass
class Best:
    """Each figure's best round (msg/s), and what the last round reported besides."""

    rates: dict[str, float] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)

    def keep(self, name: str, rate: float) -> float:
        self.rates[name] = max(self.rates.get(name, 0.0), rate)
        return rate


@dataclass
class Round:
    """What one round needs: broker, environment, topics, folders."""

    server: str
    env: dict[str, str]
    admin: Admin
    work: Path
    number: int = 0
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    def topic(self, role: str, partitions: int = PARTITIONS) -> str:
        name = f"bench-{role}-{self.tag}"
        self.admin.create(name, partitions=partitions)
        return name

    def pair(self, run_ours: Job, run_quix: Job) -> tuple[dict[str, Any], dict[str, Any]]:
        """Ours and Quix, the one that went second last round going first."""
        if self.number % 2:
            quix = run_quix()
            return run_ours(), quix
        return run_ours(), run_quix()


def producer_round(r: Round, events: Path, payloads: Path, count: int, best: Best) -> None:
    java = best.keep("producer.java", java_producer(r.server, r.topic("java"), count, payloads))
    bare = anchor("bare-produce", r.server, r.topic("bare"), str(events))
    best.keep("producer.bare", bare["records"] / bare["seconds"])
    ours_topic, ours_dlq = r.topic("prod-ours"), r.topic("prod-ours-dlq", 1)
    quix_topic, quix_dlq = r.topic("prod-quix"), r.topic("prod-quix-dlq", 1)
    mine, quix = r.pair(
        lambda: ours(
            ["produce", "--input", str(events), "--topic", ours_topic, "--dlq-topic", ours_dlq],
            r.env,
        ),
        lambda: anchor("quix-produce", r.server, quix_topic, quix_dlq, str(events)),
    )
    rate = best.keep("producer.ours", mine["records_in"] / mine["duration_s"])
    quix_rate = best.keep("producer.quix", quix["records"] / quix["seconds"])
    if (mine["records_rejected"], mine["records_out"]) != (
        quix["rejected"],
        quix["records"] - quix["rejected"],
    ):
        sys.exit(f"the producers disagree: ours {mine}, Quix {quix}")
    best.notes["producer"] = {"rejected_to_dlq": mine["records_rejected"]}
    print(
        f"  producer: ours {rate:,.0f}, Quix {quix_rate:,.0f}, Java {java:,.0f} msg/s",
        file=sys.stderr,
    )


def consumer_round(
    r: Round, name: str, topic: str, expected: set[str], total: int, best: Best
) -> None:
    java = best.keep(f"{name}.java", java_consumer(r.server, topic, total))
    bare = anchor("bare-consume", r.server, topic, str(total))
    best.keep(f"{name}.bare", bare["records"] / bare["seconds"])
    ours_dir, quix_dir = r.work / f"ours_{name}_{r.tag}", r.work / f"quix_{name}_{r.tag}"
    consume = ["consume", "--topic", topic, "--group-id", f"bench-ours-{r.tag}-{name}"]
    consume += ["--dlq-topic", r.topic(f"{name}-dlq", 1), "--output-dir", str(ours_dir)]
    consume += ["--batch-size", "20000", "--max-messages", str(total)]
    quix_group, valid = f"bench-quix-{r.tag}-{name}", str(len(expected))
    mine, quix = r.pair(
        lambda: ours(consume, r.env),
        lambda: anchor("quix-consume", r.server, topic, quix_group, str(quix_dir), valid),
    )
    rate = best.keep(f"{name}.ours", mine["records_in"] / mine["duration_s"])
    quix_rate = best.keep(f"{name}.quix", quix["records"] / quix["seconds"])
    ours_ids, quix_ids = parquet_ids(ours_dir / topic), parquet_ids(quix_dir)
    same = (
        len(ours_ids) == len(set(ours_ids)) == len(quix_ids) == len(set(quix_ids))
        and set(ours_ids) == set(quix_ids) == expected
        and mine["records_rejected"] == total - len(expected)
    )
    if not same:
        sys.exit(
            f"{name}: outputs differ: ours {len(ours_ids)} rows ({len(set(ours_ids))} ids), "
            f"Quix {len(quix_ids)} ({len(set(quix_ids))}), input {len(expected)} valid; "
            f"ours DLQ {mine['records_rejected']} of {total - len(expected)} poison"
        )
    best.notes[name] = {
        "same_valid_ids": same,
        "valid": len(expected),
        "poison": total - len(expected),
        "ours_dlq": mine["records_rejected"],
        "quix_dropped_undecodable": quix["undecodable"],
        "quix_dropped_invalid": quix["invalid"],
        "ours_files": mine["files_written"],
        "quix_files": quix["files"],
    }
    shutil.rmtree(ours_dir, ignore_errors=True)
    shutil.rmtree(quix_dir, ignore_errors=True)
    shutil.rmtree(quix_dir.parent / f"{quix_dir.name}_state", ignore_errors=True)
    print(
        f"  {name}: ours {rate:,.0f} ({mine['files_written']} files), "
        f"Quix {quix_rate:,.0f} ({quix['files']} files), Java {java:,.0f} msg/s",
        file=sys.stderr,
    )


def report(best: Best, opts: argparse.Namespace, sizes: dict[str, int]) -> None:
    rows = [
        ("producer: read + validate + keyed produce + DLQ", "producer", "producer"),
        ("consumer: validate + Parquet + commit, time-ordered", "ordered", "consumer"),
        ("consumer: validate + Parquet + commit, scattered", "scattered", "consumer"),
    ]
    print(
        f"\n{sizes['ordered']:,} time-ordered and {sizes['scattered']:,} scattered (28 d x 24 h) "
        f"events x {RECORD_BYTES} B, 1 in {POISON_EVERY:,} poison, {PARTITIONS} partitions; "
        f"best of {opts.rounds} alternating rounds"
    )
    head = f"{'stage':54} {'ours':>9} {'Quix':>9} {'ratio':>6} {'target':>6}  {'bare c-k':>9} {'Java':>9}"
    print(head + "   (msg/s)")
    for label, key, kind in rows:
        r = best.rates
        mine, quix = r[f"{key}.ours"], r[f"{key}.quix"]
        ratio, target = mine / quix, TARGETS[kind]
        verdict = "ok" if ratio >= target else "MISSED"
        print(
            f"{label:54} {mine:9,.0f} {quix:9,.0f} {ratio:6.2f} {target:6.1f}  "
            f"{r[f'{key}.bare']:9,.0f} {r[f'{key}.java']:9,.0f}  {verdict}"
        )
    for key in ("ordered", "scattered"):
        n = best.notes[key]
        print(
            f"{key}: Parquet files ours {n['ours_files']:,} (date/hour folders per partition), "
            f"Quix {n['quix_files']:,}; poison {n['poison']}: ours {n['ours_dlq']} to the DLQ, Quix "
            f"dropped {n['quix_dropped_undecodable']} non-JSON + {n['quix_dropped_invalid']} invalid; "
            f"same valid event ids: {'yes' if n['same_valid_ids'] else 'NO'}"
        )
    print(f"command: {shlex.join([sys.executable, *sys.argv])}")
    # The verdicts `nox -s bench` gathers into BENCHMARKS.md (de_common.benchmarks).
    from de_common.benchmarks import Comparison, write_results

    names = {
        "producer": "producer: read + validate + keyed produce + DLQ",
        "ordered": "consumer, time-ordered",
        "scattered": "consumer, late events over 28 d x 24 h",
    }
    write_results(
        Path(__file__).with_name("results.json"),
        "kafka_ingest",
        [
            Comparison(
                names[key],
                "msg/s",
                round(best.rates[f"{key}.ours"]),
                "Quix Streams",
                round(best.rates[f"{key}.quix"]),
                TARGETS[kind],
            )
            for _label, key, kind in rows
        ],
        data=(
            f"seeded events, 1 in {POISON_EVERY:,} poison, {PARTITIONS} partitions: "
            f"{sizes['ordered']:,} time-ordered and {sizes['scattered']:,} spread over "
            "28 d x 24 h; same valid event ids in both tools' output"
        ),
        command=shlex.join(
            ["uv", "run", "nox", "-s", "bench", "--", "kafka_ingest", *sys.argv[1:]]
        ),
    )
    print(
        json.dumps(
            {
                "sizes": sizes,
                "rounds": opts.rounds,
                "best": {k: round(v) for k, v in best.rates.items()},
                "notes": best.notes,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--scale", type=float, default=1.0, help="1.0 = 500,000 time-ordered + 300,000 scattered"
    )
    parser.add_argument(
        "--rounds", type=int, default=2, help="alternate the tools this often, keep each one's best"
    )
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=Path("/tmp/kafka_ingest_bench"),
        help="inputs and outputs, deleted at the end (Quix's sink wants [A-Za-z0-9 ._/] only)",
    )
    parser.add_argument(
        "--keep-inputs", action="store_true", help="keep the event files for reruns"
    )
    opts, _ = parser.parse_known_args()
    sizes = {
        "ordered": max(int(ORDERED * opts.scale), 2 * POISON_EVERY),
        "scattered": max(int(SCATTERED * opts.scale), 2 * POISON_EVERY),
    }
    work: Path = opts.work_dir
    inputs = work / "inputs"
    server = bootstrap()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAFKA_INGEST_")}
    env |= {f"KAFKA_INGEST_{k.upper()}": v for k, v in SETTINGS.items()}
    env["KAFKA_INGEST_BOOTSTRAP"] = server
    admin = Admin(server)
    best = Best()
    try:
        ordered = make_events(inputs, sizes["ordered"])
        scattered = make_events(inputs, sizes["scattered"], scattered=True)
        payloads = inputs / "payloads.txt"
        with ordered.open("rb") as src, payloads.open("wb") as dst:
            lines = (line for i, line in enumerate(src) if not is_poison(i))
            dst.writelines(line for _, line in zip(range(10_000), lines, strict=False))
        # The consumers' inputs, filled once: no validation on the way in, poison and all.
        first = Round(server, env, admin, work)
        ordered_topic, scattered_topic = first.topic("ordered"), first.topic("scattered")
        anchor("bare-produce", server, ordered_topic, str(ordered))
        if not fill_with_kcat(server, scattered_topic, scattered):
            anchor("bare-produce", server, scattered_topic, str(scattered))
        expected = {"ordered": valid_ids(ordered), "scattered": valid_ids(scattered)}
        for number in range(max(opts.rounds, 1)):
            print(f"round {number + 1}", file=sys.stderr)
            r = Round(server, env, admin, work, number)
            producer_round(r, ordered, payloads, sizes["ordered"], best)
            for name, topic in (("ordered", ordered_topic), ("scattered", scattered_topic)):
                consumer_round(r, name, topic, expected[name], sizes[name], best)
        report(best, opts, sizes)
    finally:
        admin.delete_all()
        for path in work.iterdir() if work.is_dir() else ():
            if path != inputs:
                shutil.rmtree(path, ignore_errors=True)
        if not opts.keep_inputs:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
