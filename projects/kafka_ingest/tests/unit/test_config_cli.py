"""Settings and the CLI's usage errors: one line, exit 2, no traceback."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from kafka_ingest.cli import cli
from kafka_ingest.clients import consumer_config, producer_config
from kafka_ingest.config import KafkaIngestSettings
from kafka_ingest.replay import parse_time

from de_common.config import load_settings
from de_common.errors import UserError


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
    assert "kafka unreachable at 127.0.0.1:1" in result.output
    assert "Traceback" not in result.output


def test_parse_time_accepts_iso_and_epoch_ms() -> None:
    assert parse_time("1700000000000") == 1_700_000_000_000
    assert parse_time("2026-01-01T00:00:00Z") == parse_time("2026-01-01T00:00:00")
    with pytest.raises(UserError):
        parse_time("soon")
