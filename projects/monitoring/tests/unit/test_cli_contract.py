"""The CLI contract every project runs on its own CLI."""

from __future__ import annotations

from pathlib import Path

from de_services.cli_contract import CliContract

UNREACHABLE = Path(__file__).parent / "data" / "unreachable.yml"


class TestCliContract(CliContract):
    module = "monitoring"
    # probe needs no service to run: targets that do not answer are counted as down.
    job = ("probe", "--checks", str(UNREACHABLE))
    bad_setting = ("MONITORING_PORT", "not-a-port")
    missing_input = ("probe", "--checks", "{tmp}/missing.yml")
    secret = ("MONITORING_DEMO_POSTGRES_URL", "postgresql://u:hunter2-secret@127.0.0.1:9/db")
