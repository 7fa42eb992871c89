"""Settings, flags and the CLI's usage errors: one line, exit 2, no traceback."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from kafka_ingest.cli import cli
from kafka_ingest.clients import LIBRDKAFKA_LOG, common_config, consumer_config, producer_config
from kafka_ingest.config import KafkaIngestSettings
from kafka_ingest.replay import parse_time

from de_common.config import load_settings
from de_common.errors import UserError

DATA = Path(__file__).parent / "data"


def test_dlq_defaults_to_topic_suffix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_INGEST_TOPIC", "orders")
    settings = load_settings(KafkaIngestSettings)
    assert settings.dlq() == "orders.dlq"


def test_bad_setting_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_INGEST_BATCH_SIZE", "0")
    with pytest.raises(UserError, match="KAFKA_INGEST_BATCH_SIZE"):
        load_settings(KafkaIngestSettings)


def test_client_configs_carry_the_guarantees() -> None:
    settings = KafkaIngestSettings()
    producer = producer_config(settings)
    assert producer["enable.idempotence"] is True and producer["acks"] == "all"
    consumer = consumer_config(settings)
    assert consumer["enable.auto.commit"] is False
    assert consumer["partition.assignment.strategy"] == "cooperative-sticky"
    assert consumer["isolation.level"] == "read_committed"
    # librdkafka's own log lines go through de_common's logging, not straight to stderr.
    assert common_config(settings)["logger"] is LIBRDKAFKA_LOG
    assert producer["logger"] is consumer["logger"] is LIBRDKAFKA_LOG


def test_every_setting_has_a_description() -> None:
    missing = [n for n, f in KafkaIngestSettings.model_fields.items() if not f.description]
    assert missing == []


def test_flags_are_generated_from_the_settings() -> None:
    result = CliRunner().invoke(cli, ["consume", "--help"])
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert (
        "--group-id TEXT Consumer group id (default: kafka-ingest) [env: KAFKA_INGEST_GROUP_ID]"
        in text
    )
    assert "--batch-timeout-s FLOAT" in text and "[env: KAFKA_INGEST_BATCH_TIMEOUT_S]" in text
    assert "--sink" in text and "[env: KAFKA_INGEST_SINK]" in text
    assert "--metrics-port" in text and "--postgres-url" not in text


def test_sasl_password_is_masked_in_config_output(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_INGEST_SASL_USERNAME", "svc")
    monkeypatch.setenv("KAFKA_INGEST_SASL_PASSWORD", "hunter2-secret")
    result = CliRunner().invoke(cli, ["config"])
    assert result.exit_code == 0
    assert "hunter2-secret" not in result.output
    assert json.loads(result.output)["sasl_username"] == "svc"


def test_produce_needs_exactly_one_source() -> None:
    result = CliRunner().invoke(cli, ["produce", "--json"])
    assert result.exit_code == 2
    assert "exactly one of" in result.output


def test_replay_needs_a_start() -> None:
    result = CliRunner().invoke(cli, ["replay", "--json"])
    assert result.exit_code == 2
    assert "--from-offset" in result.output


def test_unreachable_broker_is_one_line_and_exit_1(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_INGEST_CONNECT_TIMEOUT_S", "1.5")
    result = CliRunner().invoke(
        cli, ["produce", "--generate", "1", "--bootstrap", "127.0.0.1:1", "--json"]
    )
    assert result.exit_code == 1
    assert "error: kafka unreachable at 127.0.0.1:1" in result.output
    assert "Traceback" not in result.output
    summary = json.loads(result.stdout)
    assert summary["status"] == "failed" and "kafka unreachable" in summary["error"]


def test_a_bad_sink_is_refused_before_anything_runs() -> None:
    result = CliRunner().invoke(cli, ["consume", "--sink", "s3", "--json"])
    assert result.exit_code == 2
    assert "'s3' is not one of 'parquet', 'postgres'" in result.output
    assert result.stdout.count("{") == 0  # no summary: nothing ran


def test_a_bad_sink_in_the_environment_names_the_env_var() -> None:
    result = CliRunner().invoke(cli, ["consume", "--json"], env={"KAFKA_INGEST_SINK": '["s3"]'})
    assert result.exit_code == 2
    assert "error: invalid setting KAFKA_INGEST_SINK" in result.output


def test_validate_counts_valid_out_and_invalid_rejected() -> None:
    result = CliRunner().invoke(cli, ["validate", str(DATA / "events.jsonl"), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["records_in"], summary["records_out"], summary["records_rejected"]) == (6, 4, 2)
    assert summary["records_skipped"] == {} and summary["status"] == "ok"
    examples = summary["invalid_examples"]
    assert [e["origin"] for e in examples] == ["events.jsonl:3", "events.jsonl:5"]
    assert examples[0]["error"].startswith("decode") and "kind" in examples[1]["error"]


def test_state_commands_print_their_own_json_not_a_job_summary(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KAFKA_INGEST_CONNECT_TIMEOUT_S", "1")
    result = CliRunner().invoke(cli, ["topics", "list", "--bootstrap", "127.0.0.1:1", "--json"])
    assert result.exit_code == 1
    assert result.stdout == ""  # a state command that failed prints no summary
    assert "error: kafka unreachable at 127.0.0.1:1" in result.output


LIBRDKAFKA_LINE = textwrap.dedent(
    """
    import time
    from de_common import logging as de_logging
    from kafka_ingest.clients import new_consumer
    from kafka_ingest.config import KafkaIngestSettings

    de_logging.configure("kafka_ingest", fmt="auto")
    consumer = new_consumer(KafkaIngestSettings(bootstrap="127.0.0.1:1"), group_id="nobody")
    consumer.subscribe(["nothing"])
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:
        consumer.consume(10, 0.2)
    consumer.close()
    """
)


def test_librdkafka_lines_arrive_as_json_log_lines() -> None:
    # A consumer aimed at a closed port makes librdkafka log a connect failure (%3|...|FAIL|).
    proc = subprocess.run(
        [sys.executable, "-c", LIBRDKAFKA_LINE],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert lines and not any(line.startswith("%") for line in lines), proc.stderr[:2000]
    logs = [json.loads(line) for line in lines]  # every line is JSON: nothing raw slipped through
    failures = [log for log in logs if log["logger"] == "confluent_kafka"]
    assert failures, logs
    assert failures[0]["level"] == "error" and "127.0.0.1:1" in failures[0]["msg"]
    assert {log["project"] for log in logs} == {"kafka_ingest"}


def test_parse_time_accepts_iso_and_epoch_ms() -> None:
    assert parse_time("1700000000000") == 1_700_000_000_000
    assert parse_time("2026-01-01T00:00:00Z") == parse_time("2026-01-01T00:00:00")
    with pytest.raises(UserError):
        parse_time("soon")


def _all_flags(command: click.Command) -> set[str]:
    flags = {opt for p in command.params for opt in (*p.opts, *p.secondary_opts)}
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            flags |= _all_flags(sub)
    return flags


def test_every_flag_a_message_names_exists() -> None:
    # Error texts and help name flags (`--from-offset`, `--sink postgres`): each must be real.
    src = Path(__file__).parents[2] / "src" / "kafka_ingest"
    named: dict[str, str] = {}
    for path in src.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                for flag in re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", node.value):
                    named.setdefault(flag, path.name)
    assert "--sink" in named and "--from-offset" in named
    missing = {flag: where for flag, where in named.items() if flag not in _all_flags(cli)}
    assert missing == {}
