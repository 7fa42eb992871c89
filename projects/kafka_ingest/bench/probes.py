"""Probes behind the benchmark README's explanations (not the benchmark itself).

Run after `nox -s bench -- kafka_ingest` has built its virtualenv, from the repository root:

    .nox/bench/bin/python projects/kafka_ingest/bench/probes.py fill 1000000 [--scattered]  # a topic
    .nox/bench/bin/python projects/kafka_ingest/bench/probes.py consume-loop TOPIC [-X k=v ...]
    .nox/bench/bin/python projects/kafka_ingest/bench/probes.py phases TOPIC
    .nox/bench/bin/python projects/kafka_ingest/bench/probes.py produce [--report-every-message]

fill: the benchmark's events (1 KiB, 1 in 1,000 poison; --scattered: times over 28 days x 24 hours)
into a fresh topic as they are. consume-loop: a bare consume() loop over the topic with our
consumer settings (plus -X overrides), no decoding. phases: the real consumer pipeline over the
topic (Parquet sink, default roll settings), with the seconds spent decoding, deduplicating,
buffering by partition and hour, writing files and committing. produce: our producer on the 1M-event file into a fresh topic,
either as shipped (delivery reports on failures only) or with a report for every message.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from confluent_kafka import Producer
from kafka_ingest import consumer as batch_consumer
from kafka_ingest.clients import producer_config
from kafka_ingest.consumer import StopWhen
from kafka_ingest.producer import produce
from kafka_ingest.runner import run_consume
from kafka_ingest.sinks.hour_buffers import HourBuffers
from kafka_ingest.sinks.parquet_files import ParquetSink
from kafka_ingest.sources import open_source

sys.path.insert(0, str(Path(__file__).parent))
from anchors import bare_consume, bare_produce
from anchors import settings_for as settings_at
from run import Admin, bootstrap, make_events

# Event files of the probes (1 KiB events, 1 in 1,000 poison), kept between probes.
INPUTS = Path(tempfile.gettempdir()) / "kafka_ingest_probes"


def settings_for(topic: str, **extra: Any) -> Any:
    return settings_at(bootstrap(), topic, **extra)


def fill(count: int, scattered: bool) -> None:
    """A fresh topic holding the benchmark's events as they are (poison included)."""
    topic = f"probe-{uuid.uuid4().hex[:8]}"
    Admin(bootstrap()).create(topic)
    result = bare_produce(bootstrap(), topic, make_events(INPUTS, count, scattered))
    print(topic, result["records"], file=sys.stderr)
    print(topic)


def consume_loop(topic: str, overrides: list[str]) -> None:
    extra = dict(kv.split("=", 1) for kv in overrides)
    result = bare_consume(bootstrap(), topic, None, **extra)
    total, seconds = result["records"], result["from_first"]
    print(f"consume-loop {total:,} messages {seconds:.2f} s {total / seconds:,.0f} msg/s {extra}")


def phases(topic: str) -> None:
    spent: dict[str, float] = defaultdict(float)

    def timed(owner: Any, name: str, label: str) -> None:
        real: Callable[..., Any] = getattr(owner, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return real(*args, **kwargs)
            finally:
                spent[label] += time.perf_counter() - began

        setattr(owner, name, wrapper)

    timed(batch_consumer.BatchConsumer, "handle", "decode (handle)")
    timed(ParquetSink, "_fresh", "parquet dedupe")
    timed(HourBuffers, "add", "parquet buffers (split by partition-hour)")
    timed(ParquetSink, "_roll", "parquet files (roll)")
    timed(batch_consumer.BatchConsumer, "_commit", "commit")
    out = Path(tempfile.mkdtemp(prefix="probe-parquet-"))
    settings = settings_for(
        topic, group_id=f"probe-{uuid.uuid4().hex[:8]}", output_dir=out, batch_size=20_000
    )
    began = time.perf_counter()
    try:
        result = run_consume(settings, None, StopWhen(at_end=True))
    finally:
        shutil.rmtree(out, ignore_errors=True)
    total = time.perf_counter() - began
    rest = total - sum(spent.values())
    parts = ", ".join(f"{k} {v:.2f} s" for k, v in spent.items())
    print(
        f"phases {result.records_in:,} messages in {total:.2f} s: {parts}, rest (group join, consume(), Python around it) {rest:.2f} s"
    )


def produce_probe(every_message: bool) -> None:
    topic = f"probe-{uuid.uuid4().hex[:8]}"
    Admin(bootstrap()).create(topic)
    settings = settings_for(topic)
    # A producer handed in gets a delivery report for every message, as before the change.
    client = Producer(producer_config(settings)) if every_message else None
    began = time.perf_counter()
    events = make_events(INPUTS, 1_000_000)
    result = produce(settings, open_source([str(events)], "jsonl"), producer=client)
    seconds = time.perf_counter() - began
    mode = "report every message" if every_message else "reports on failures only"
    print(
        f"produce ({mode}) {result.produced:,} in {seconds:.2f} s {result.records_in / seconds:,.0f} msg/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    sub = parser.add_subparsers(dest="mode", required=True)
    filler = sub.add_parser("fill")
    filler.add_argument("count", type=int)
    filler.add_argument("--scattered", action="store_true", help="times over 28 days x 24 hours")
    loop = sub.add_parser("consume-loop")
    loop.add_argument("topic")
    loop.add_argument("-X", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    sub.add_parser("phases").add_argument("topic")
    prod = sub.add_parser("produce")
    prod.add_argument("--report-every-message", action="store_true")
    args = parser.parse_args()
    if args.mode == "fill":
        fill(args.count, args.scattered)
    elif args.mode == "consume-loop":
        consume_loop(args.topic, args.overrides)
    elif args.mode == "phases":
        phases(args.topic)
    else:
        produce_probe(args.report_every_message)


if __name__ == "__main__":
    main()
