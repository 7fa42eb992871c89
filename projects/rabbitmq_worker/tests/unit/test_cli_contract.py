"""The CLI contract every project passes (de_services.cli_contract), on rabbitmq_worker's CLI.

Every job but `validate` talks to a broker; `validate` checks a task file against the message
schema exactly as `publish` would, so it is the job that runs here without services.
"""

from __future__ import annotations

from pathlib import Path

from de_services.cli_contract import CliContract

TASKS = Path(__file__).parent / "data" / "tasks.jsonl"


class TestCliContract(CliContract):
    module = "rabbitmq_worker"
    job = ("validate", str(TASKS))
    bad_setting = ("RABBITMQ_WORKER_PREFETCH", "lots")
    missing_input = ("publish", "{tmp}/missing.jsonl")
    secret = ("RABBITMQ_WORKER_URL", "amqp://user:hunter2-secret@127.0.0.1:1/%2F")
    # Nothing may reach a broker: a missing input must fail before any connection is tried.
    env = {"RABBITMQ_WORKER_URL": "amqp://guest:guest@127.0.0.1:1/%2F"}
