"""Probes behind the benchmark README's explanations (not the benchmark itself).

Run after `nox -s bench -- kafka_ingest` has built its virtualenv, from the repository root:

    .nox/bench/bin/python projects/kafka_ingest/bench/probes.py fill 1000000      # prints a topic
    .nox/bench/bin/python projects/kafka_ingest/bench/probes.py consume-loop TOPIC [-X k=v ...]
    .nox/bench/bin/python projects/kafka_ingest/bench/probes.py phases TOPIC
    .nox/bench/bin/python projects/kafka_ingest/bench/probes.py produce [--report-every-message]

consume-loop: a bare consume() loop over the topic with our consumer settings (plus -X overrides),
no decoding. phases: the real consumer pipeline over the topic, with the seconds spent in consume(),
decoding, the sinks and the commits. produce: our producer on the 1M-event file into a fresh topic,
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

from confluent_kafka import Consumer, Producer, TopicPartition
from kafka_ingest import consumer as batch_consumer
from kafka_ingest.clients import consumer_config, producer_config
from kafka_ingest.config import KafkaIngestSettings
from kafka_ingest.consumer import StopWhen
from kafka_ingest.producer import produce
from kafka_ingest.runner import run_consume
from kafka_ingest.sinks.parquet_files import ParquetSink
from kafka_ingest.sources import open_source

sys.path.insert(0, str(Path(__file__).parent))
from run import SETTINGS, bootstrap, create_topics, make_events


def settings_for(topic: str, **extra: Any) -> KafkaIngestSettings:
    return KafkaIngestSettings(bootstrap=bootstrap(), topic=topic, **SETTINGS, **extra)  # type: ignore[arg-type]


def fill(count: int) -> None:
    topic = f"probe-{uuid.uuid4().hex[:8]}"
    create_topics(bootstrap(), topic)
    result = produce(settings_for(topic), open_source([str(make_events(count))], "jsonl"))
    print(topic, result.produced, file=sys.stderr)
    print(topic)


def consume_loop(topic: str, overrides: list[str]) -> None:
    extra = dict(kv.split("=", 1) for kv in overrides)
    config = consumer_config(settings_for(topic), group_id=f"probe-{uuid.uuid4().hex[:8]}", **extra)
    consumer = Consumer(config)
    consumer.subscribe([topic])
    total, started = 0, None
    expected = sum(
        consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
        for p in consumer.list_topics(topic, timeout=10).topics[topic].partitions
    )
    while total < expected:
        msgs = consumer.consume(20_000, 1.0)
        if msgs and started is None:
            started = time.perf_counter()
        total += len(msgs)
    seconds = time.perf_counter() - (started or time.perf_counter())
    consumer.close()
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
    timed(ParquetSink, "write", "parquet sink")
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
    create_topics(bootstrap(), topic)
    settings = settings_for(topic)
    # A producer handed in gets a delivery report for every message, as before the change.
    client = Producer(producer_config(settings)) if every_message else None
    began = time.perf_counter()
    result = produce(settings, open_source([str(make_events(1_000_000))], "jsonl"), producer=client)
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
    sub.add_parser("fill").add_argument("count", type=int)
    loop = sub.add_parser("consume-loop")
    loop.add_argument("topic")
    loop.add_argument("-X", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    sub.add_parser("phases").add_argument("topic")
    prod = sub.add_parser("produce")
    prod.add_argument("--report-every-message", action="store_true")
    args = parser.parse_args()
    if args.mode == "fill":
        fill(args.count)
    elif args.mode == "consume-loop":
        consume_loop(args.topic, args.overrides)
    elif args.mode == "phases":
        phases(args.topic)
    else:
        produce_probe(args.report_every_message)


if __name__ == "__main__":
    main()
