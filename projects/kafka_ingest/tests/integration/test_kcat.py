"""kcat, a third-party librdkafka producer, feeds the consumer; keys hash like ours (murmur2)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from kafka_ingest.sources import generate

from .conftest import parquet_pairs, read_topic, run_cli, topic_env, valid_events

pytestmark = pytest.mark.integration


def test_consumer_ingests_what_kcat_produced(
    kafka_bootstrap: str, topic_pair: Callable[[int], tuple[str, str]], tmp_path: Path
) -> None:
    kcat = shutil.which("kcat")
    assert kcat, "kcat is required (apt-get install -y kcat)"
    topic, dlq = topic_pair(3)
    lines = []
    for item in generate(400, seed=9, invalid_every=100):
        lines.append(f"{item.event['key']}\t{item.raw.decode()}")
    subprocess.run(
        [
            kcat,
            "-P",
            "-b",
            kafka_bootstrap,
            "-t",
            topic,
            "-K",
            "\t",
            "-X",
            "partitioner=murmur2_random",
        ],
        input="\n".join(lines) + "\n",
        text=True,
        check=True,
        timeout=60,
    )
    env = topic_env(kafka_bootstrap, topic, dlq)
    summary = run_cli(
        ["consume", "--output-dir", "out", "--stop-at-end", "--idle-timeout", "10"], env, tmp_path
    )
    expected = valid_events(generate(400, seed=9, invalid_every=100))
    assert (summary["records_in"], summary["records_out"], summary["records_rejected"]) == (
        400,
        396,
        4,
    )
    assert dict(parquet_pairs(tmp_path / "out", topic)) == expected
    # Our producer puts the same keys on the same partitions kcat chose.
    kcat_partition = {
        orjson.loads(m.value())["key"]: m.partition() for m in read_topic(kafka_bootstrap, topic)
    }
    ours, ours_dlq = topic_pair(3)
    run_cli(
        ["produce", "--generate", "400", "--seed", "9", "--topic", ours, "--dlq-topic", ours_dlq],
        env,
        tmp_path,
    )
    our_partition = {
        orjson.loads(m.value())["key"]: m.partition() for m in read_topic(kafka_bootstrap, ours)
    }
    assert our_partition == {k: v for k, v in kcat_partition.items() if k in our_partition}
