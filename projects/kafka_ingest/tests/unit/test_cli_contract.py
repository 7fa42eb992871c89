"""The CLI contract every project passes (de_services.cli_contract), on kafka_ingest's CLI.

Every job but `validate` talks to a broker; `validate` checks a file against the event contract
exactly as `produce` would, so it is the job that runs here without services.
"""

from __future__ import annotations

from pathlib import Path

from de_services.cli_contract import CliContract

EVENTS = Path(__file__).parent / "data" / "events.jsonl"


class TestCliContract(CliContract):
    module = "kafka_ingest"
    job = ("validate", str(EVENTS))
    bad_setting = ("KAFKA_INGEST_BATCH_SIZE", "lots")
    missing_input = ("produce", "--input", "{tmp}/missing.jsonl")
    secret = ("KAFKA_INGEST_SASL_PASSWORD", "hunter2-secret")
    # Nothing may reach a broker: a missing input must fail before any connection is tried.
    env = {"KAFKA_INGEST_BOOTSTRAP": "127.0.0.1:1", "KAFKA_INGEST_CONNECT_TIMEOUT_S": "1"}
