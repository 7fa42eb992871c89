"""The other columns of the benchmark, each run as its own process by run.py; one JSON line out.

    anchors.py quix-consume BOOTSTRAP TOPIC GROUP OUT_DIR VALID    Quix Streams: json deserializer,
        filter with our fastjsonschema schema, LocalFileSink(format="parquet"); stops after VALID
        outputs; non-JSON messages skipped through on_consumer_error (Quix stops on them otherwise)
    anchors.py quix-produce BOOTSTRAP TOPIC DLQ FILE    the same validate-and-produce loop as ours on
        Quix's producer (app.get_producer()): orjson, fastjsonschema, keyed, invalid lines to DLQ
    anchors.py bare-consume BOOTSTRAP TOPIC COUNT     a bare confluent-kafka consume() loop with
        our consumer settings, no decoding (the ceiling for any Python consumer)
    anchors.py bare-produce BOOTSTRAP TOPIC FILE      a bare confluent-kafka produce() loop with our
        producer settings, no validation, no keys (the ceiling for any Python producer)

Times start before the client or Application is built and end when the last message is handled
(consumers) or acknowledged (producers), like `duration_s` in our summaries.
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from pathlib import Path
from typing import Any

import fastjsonschema
import orjson
from confluent_kafka import Consumer, Producer, TopicPartition
from kafka_ingest.clients import consumer_config, producer_config
from kafka_ingest.config import KafkaIngestSettings
from kafka_ingest.events import EVENT_SCHEMA

# The producer settings both sides and the Java tool run with.
SETTINGS = {"acks": "all", "compression": "lz4", "linger_ms": "10", "batch_bytes": "262144"}
QUIX_PRODUCER = {
    "acks": "all",
    "enable.idempotence": True,
    "compression.type": "lz4",
    "linger.ms": 10,
    "batch.size": 262144,
}


def settings_for(bootstrap: str, topic: str, **extra: Any) -> KafkaIngestSettings:
    """Our settings for the benchmark's broker and topic."""
    return KafkaIngestSettings(bootstrap=bootstrap, topic=topic, **SETTINGS, **extra)  # type: ignore[arg-type]


def end_offsets(consumer: Consumer, topic: str) -> int:
    """How many messages the topic holds (sum of its partitions' high watermarks)."""
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    return sum(
        consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in partitions
    )


def bare_consume(
    bootstrap: str, topic: str, count: int | None = None, **overrides: str
) -> dict[str, Any]:
    """Consume `count` messages (None: all there are) in a fresh group with our consumer settings
    (and librdkafka overrides), touching nothing."""
    began = time.perf_counter()
    config = consumer_config(
        settings_for(bootstrap, topic), group_id=f"bare-{uuid.uuid4().hex[:8]}", **overrides
    )
    consumer = Consumer(config)
    if count is None:
        count = end_offsets(consumer, topic)
    consumer.subscribe([topic])
    total, first = 0, None
    while total < count:
        # Never ask for more than is left: consume() waits out its timeout for a full batch.
        msgs = consumer.consume(min(20_000, count - total), 1.0)
        if msgs and first is None:
            first = time.perf_counter()
        total += len(msgs)
    ended = time.perf_counter()
    consumer.close()
    # from_first leaves the group join out (what probes.py consume-loop reports).
    return {"records": total, "seconds": ended - began, "from_first": ended - (first or began)}


def bare_produce(bootstrap: str, topic: str, source: Path) -> dict[str, Any]:
    """Every line of the file to the topic, as is, keyed round-robin (no parsing)."""
    began = time.perf_counter()
    # Reports on failures only, as our producer asks for them (a callback per message is slower).
    config = producer_config(settings_for(bootstrap, topic)) | {"delivery.report.only.error": True}
    producer = Producer(config)
    # Like our producer (it checks the topic first): a producer that starts sending before it
    # has the topic's metadata waited ~0.5 s in flush() here.
    producer.list_topics(topic=topic, timeout=10)
    send, total = producer.produce, 0
    # Unkeyed messages stick to one partition per batch (librdkafka's sticky partitioner), which
    # halved the rate here; keys spread them over every partition at once, like real keys do.
    keys = [str(k).encode() for k in range(64)]
    with source.open("rb") as lines:
        for line in lines:
            while True:
                try:
                    send(topic, line.rstrip(b"\n"), keys[total & 63])
                    break
                except BufferError:
                    producer.poll(0.05)
            total += 1
            if total % 1000 == 0:
                producer.poll(0)
    left = producer.flush(300)
    return {"records": total, "seconds": time.perf_counter() - began, "undelivered": left}


def quix_produce(bootstrap: str, topic: str, dlq: str, source: Path) -> dict[str, Any]:
    """Validate each line and produce it keyed, or to the DLQ with the reason, on Quix's producer."""
    from quixstreams import Application

    began = time.perf_counter()
    validate = fastjsonschema.compile(EVENT_SCHEMA)
    app = Application(broker_address=bootstrap, producer_extra_config=QUIX_PRODUCER)
    total = rejected = 0
    with app.get_producer() as producer, source.open("rb") as lines:
        # The topic's metadata first, as our producer has it (see bare_produce).
        producer._producer.list_topics(topic=topic, timeout=10)
        for line in lines:
            raw = line.rstrip(b"\n")
            total += 1
            try:
                event = validate(orjson.loads(raw))
            except (orjson.JSONDecodeError, fastjsonschema.JsonSchemaException) as exc:
                producer.produce(dlq, value=raw, headers=[("dlq.error", str(exc).encode())])
                rejected += 1
                continue
            producer.produce(topic, value=raw, key=event["key"])
    # Leaving the context flushed the producer: everything is acknowledged.
    return {"records": total, "seconds": time.perf_counter() - began, "rejected": rejected}


def quix_consume(
    bootstrap: str, topic: str, group: str, out_dir: Path, valid: int
) -> dict[str, Any]:
    """Consume, validate and write Parquet the way a Quix Streams user would."""
    from quixstreams import Application
    from quixstreams.sinks.community.file.local import LocalFileSink

    began = time.perf_counter()
    validate = fastjsonschema.compile(EVENT_SCHEMA)
    dropped = {"undecodable": 0, "invalid": 0}

    def skip_undecodable(exc: Exception, message: Any, logger: Any) -> bool:
        # Without this callback Quix stops the application at the first non-JSON message.
        dropped["undecodable"] += 1
        return True

    def valid_event(value: Any) -> bool:
        try:
            validate(value)
        except fastjsonschema.JsonSchemaException:
            dropped["invalid"] += 1
            return False
        return True

    app = Application(
        broker_address=bootstrap,
        consumer_group=group,
        auto_offset_reset="earliest",
        on_consumer_error=skip_undecodable,
        state_dir=str(out_dir.parent / f"{out_dir.name}_state"),
    )
    frame = app.dataframe(app.topic(topic, value_deserializer="json"))
    frame = frame.filter(valid_event)
    frame.sink(LocalFileSink(directory=str(out_dir), format="parquet"))
    app.run(count=valid, collect=False)
    seconds = time.perf_counter() - began
    files = len(list(out_dir.rglob("*.parquet")))
    return {"records": valid + sum(dropped.values()), "seconds": seconds, "files": files, **dropped}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    sub = parser.add_subparsers(dest="mode", required=True)
    qc = sub.add_parser("quix-consume")
    for name in ("bootstrap", "topic", "group"):
        qc.add_argument(name)
    qc.add_argument("out_dir", type=Path)
    qc.add_argument("valid", type=int)
    qp = sub.add_parser("quix-produce")
    for name in ("bootstrap", "topic", "dlq"):
        qp.add_argument(name)
    qp.add_argument("source", type=Path)
    bc = sub.add_parser("bare-consume")
    bc.add_argument("bootstrap")
    bc.add_argument("topic")
    bc.add_argument("count", type=int)
    bp = sub.add_parser("bare-produce")
    bp.add_argument("bootstrap")
    bp.add_argument("topic")
    bp.add_argument("source", type=Path)
    args = parser.parse_args()
    if args.mode == "quix-consume":
        result = quix_consume(args.bootstrap, args.topic, args.group, args.out_dir, args.valid)
    elif args.mode == "quix-produce":
        result = quix_produce(args.bootstrap, args.topic, args.dlq, args.source)
    elif args.mode == "bare-consume":
        result = bare_consume(args.bootstrap, args.topic, args.count)
    else:
        result = bare_produce(args.bootstrap, args.topic, args.source)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
